// Writes the unrolled compression function of shared/platform/sha256-js.ts (between its "rounds:"
// markers) from FIPS 180-4 §6.2.2, so that the 64 rounds need not be edited by hand:
//
//   node scripts/sha256-rounds.mjs && npx biome format --write shared/platform/sha256-js.ts
//
// Each round keeps a..h in place and renames them instead of moving them (round i's `a` is the variable
// round i-1 called `h`...), and the message schedule lives in 16 rolling locals w0..w15.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../shared/platform/sha256-js.ts', import.meta.url);
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];
const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const lines = [];
for (let i = 0; i < 64; i++) {
  const [a, b, c, d, e, f, g, h] = names.map((_, j) => names[(j - (i % 8) + 8) % 8]);
  const w = `w${i % 16}`;
  lines.push(`// Round ${i}.`);
  if (i < 16) {
    lines.push(`${w} = m.getInt32(p + ${4 * i});`);
  } else {
    const w15 = `w${(i - 15) % 16}`;
    const w2 = `w${(i - 2) % 16}`;
    const w7 = `w${(i - 7) % 16}`;
    lines.push(
      `${w} = (${w} + (((${w15} >>> 7) | (${w15} << 25)) ^ ((${w15} >>> 18) | (${w15} << 14)) ^ (${w15} >>> 3)) + ${w7} + (((${w2} >>> 17) | (${w2} << 15)) ^ ((${w2} >>> 19) | (${w2} << 13)) ^ (${w2} >>> 10))) | 0;`,
    );
  }
  lines.push(
    `t = (${h} + (((${e} >>> 6) | (${e} << 26)) ^ ((${e} >>> 11) | (${e} << 21)) ^ ((${e} >>> 25) | (${e} << 7))) + (${g} ^ (${e} & (${f} ^ ${g}))) + 0x${K[i].toString(16).padStart(8, '0')} + ${w}) | 0;`,
  );
  lines.push(`${d} = (${d} + t) | 0;`);
  lines.push(
    `${h} = (t + (((${a} >>> 2) | (${a} << 30)) ^ ((${a} >>> 13) | (${a} << 19)) ^ ((${a} >>> 22) | (${a} << 10))) + ((${a} & ${b}) | (${c} & (${a} | ${b})))) | 0;`,
  );
}
const source = readFileSync(file, 'utf8');
const start = source.indexOf('// rounds: begin');
const end = source.indexOf('// rounds: end');
if (start < 0 || end < start) throw new Error('the rounds markers are missing from sha256-js.ts');
const lineStart = source.lastIndexOf('\n', start) + 1;
const indent = source.slice(lineStart, start);
writeFileSync(
  file,
  `${source.slice(0, start)}// rounds: begin (written by scripts/sha256-rounds.mjs)\n${lines.map((l) => `${indent}${l}\n`).join('')}${indent}${source.slice(end)}`,
);
