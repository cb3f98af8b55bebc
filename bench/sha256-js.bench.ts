/**
 * SHA-256 in JavaScript (`shared/platform/sha256-js.ts`, the auditor's page's hash) against node:crypto
 * and, when installed, other pure-JavaScript implementations, on the page's two input shapes: 1,025-byte
 * leaf inputs (0x00 || a 1 KiB event) and 65-byte Merkle node inputs (0x01 || left || right).
 *
 *   node --import tsx bench/sha256-js.bench.ts [--rounds 5]
 *   npm i --no-save @noble/hashes@2.4.0 sha256-uint8array@0.12.1 js-sha256@1.0.0   (optional rivals)
 *
 * CPU time (process.cpuUsage) per implementation and size, best of the rounds, implementations
 * alternated within each round. V8 is the engine of Chromium, where the page runs. Every implementation
 * is first checked against node:crypto. The last stdout line is one JSON object (MB/s).
 */
import { createHash, randomBytes } from 'node:crypto';
import { sha256Binary } from '../shared/platform/crypto.browser.ts';
import { argValue, positiveInt, round } from './bench-args.ts';

type Hash = (data: Uint8Array) => unknown;

const rounds = positiveInt(argValue(process.argv.slice(2), 'rounds') ?? '5', '--rounds');
const implementations: Record<string, Hash> = {
  'auditseal sha256-js': (d) => sha256Binary(d),
  'node:crypto': (d) => createHash('sha256').update(d).digest(),
};

/** Adds a rival if its package is installed (`npm i --no-save`); the page does not depend on any. */
async function optional(name: string, load: () => Promise<Hash>): Promise<void> {
  try {
    implementations[name] = await load();
  } catch {
    process.stderr.write(`(${name} not installed: skipped)\n`);
  }
}
const load = (specifier: string) => import(/* @vite-ignore */ specifier);
await optional('@noble/hashes sha256', async () => (await load('@noble/hashes/sha2.js')).sha256);
await optional('sha256-uint8array', async () => {
  const { createHash: create } = await load('sha256-uint8array');
  return (d) => create().update(d).digest();
});
await optional('js-sha256', async () => {
  const { sha256 } = (await load('js-sha256')).default;
  return (d) => sha256.array(d);
});

function digestOf(result: unknown): Buffer {
  if (typeof result === 'string') return Buffer.from(result, 'latin1');
  return Buffer.from(result as Uint8Array);
}

for (const [name, hash] of Object.entries(implementations)) {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1025, 5000]) {
    const data = randomBytes(n);
    if (!digestOf(hash(data)).equals(createHash('sha256').update(data).digest())) {
      throw new Error(`${name} gives a wrong digest for ${n} bytes`);
    }
  }
}

const shapes = [
  { name: 'leaf_1025', size: 1025, count: 40_000 },
  { name: 'node_65', size: 65, count: 400_000 },
];
const inputs = new Map(shapes.map((s) => [s.name, Array.from({ length: 64 }, () => randomBytes(s.size))]));
const best = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const [name, hash] of Object.entries(implementations)) {
    for (const shape of shapes) {
      const list = inputs.get(shape.name)!;
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < shape.count; i++) hash(list[i & 63]!);
      const cpu = process.cpuUsage(cpu0);
      const mbPerS = (shape.size * shape.count) / ((cpu.user + cpu.system) / 1e6) / 1e6;
      const key = `${name}|${shape.name}`;
      best.set(key, Math.max(best.get(key) ?? 0, mbPerS));
    }
  }
}
const result: Record<string, Record<string, number>> = {};
for (const [key, mbPerS] of best) {
  const [name, shape] = key.split('|') as [string, string];
  process.stderr.write(`${name.padEnd(24)} ${shape.padEnd(10)} ${mbPerS.toFixed(1)} MB/s\n`);
  result[name] = { ...result[name], [`${shape}_mb_s`]: round(mbPerS, 1) };
}
console.log(JSON.stringify({ rounds, cpu_mb_s: result }));
