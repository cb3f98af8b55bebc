/**
 * Compares two checkouts of the verifier in one process, passes alternating (A, B, A, B, …), and prints
 * the best CPU time of each and whether their reports are equal as JSON (docs/BENCHMARKS.md, "Same-process
 * comparisons"). For a shared, noisy machine: both sides see the same conditions.
 *
 *   mkdir -p OLD && git archive COMMIT shared | tar -x -C OLD && cp package.json OLD/ && ln -s "$PWD/node_modules" OLD/node_modules
 *   node --import tsx bench/verify-ab.ts --a OLD --b . --dir DIR --key PUBLIC.pem [--passes 6]
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { argValue, positiveInt } from './bench-args.ts';

const argv = process.argv.slice(2);
const [a, b, dir, keyPath] = ['a', 'b', 'dir', 'key'].map((name) => argValue(argv, name));
if (!a || !b || !dir || !keyPath)
  throw new Error('usage: verify-ab.ts --a ROOT --b ROOT --dir DIR --key PUBLIC.pem [--passes N]');
const passes = positiveInt(argValue(argv, 'passes') ?? '6', '--passes');

async function side(root: string) {
  const at = (path: string) => import(pathToFileURL(resolve(root, path)).href);
  return {
    keys: await at('shared/crypto/keys.ts'),
    reader: await at('shared/verify/object-reader.ts'),
    verify: await at('shared/verify/verify-folder.ts'),
  };
}

const sides = [await side(a), await side(b)];
const pem = await readFile(keyPath, 'utf8');
const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
const reports = ['', ''];
for (let pass = 0; pass < passes; pass++) {
  for (const [s, m] of sides.entries()) {
    const keys = new m.keys.TrustedKeySet([m.keys.loadPublicKey(pem)]);
    const cpu0 = process.cpuUsage();
    const report = await m.verify.verifyFolder(new m.reader.FolderReader(dir), { keys });
    const cpu = process.cpuUsage(cpu0);
    best[s] = Math.min(best[s]!, (cpu.user + cpu.system) / 1e6);
    reports[s] = JSON.stringify(report);
    if (!report.valid) throw new Error(`side ${s === 0 ? 'a' : 'b'}: the folder does not verify`);
  }
}
process.stdout.write(
  `${JSON.stringify({
    a_cpu_s: best[0],
    b_cpu_s: best[1],
    b_over_a: Number((best[1]! / best[0]!).toFixed(3)),
    same_report: reports[0] === reports[1],
    loadavg: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  })}\n`,
);
