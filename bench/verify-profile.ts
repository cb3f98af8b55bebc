/**
 * Runs verifyFolder over a sealed folder a few times and prints each pass's wall and CPU time, for
 * profiling the verifier (docs/BENCHMARKS.md, "Where the single-thread time goes now"):
 *
 *   npm run bench:verify -- --events 100000 --reps 1 --keep      # prints "kept DIR"
 *   node --cpu-prof --cpu-prof-dir=prof --import tsx bench/verify-profile.ts --dir DIR/large --key DIR/large.pem [--passes 4] [--jobs 2]
 *
 * With --jobs N above 1 each pass uses the CLI's worker pool (the bundled worker: run `npm run build` first).
 */
import { readFile } from 'node:fs/promises';
import { ChunkWorkerPool } from '../cli/verify-workers.ts';
import { loadPublicKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import { FolderReader } from '../shared/verify/object-reader.ts';
import { verifyFolder } from '../shared/verify/verify-folder.ts';
import { argValue, positiveInt } from './bench-args.ts';

const BUNDLED_WORKER = new URL('../dist/cli/verify-chunk.worker.mjs', import.meta.url);

const argv = process.argv.slice(2);
const dir = argValue(argv, 'dir');
const keyPath = argValue(argv, 'key');
if (!dir || !keyPath)
  throw new Error('usage: verify-profile.ts --dir DIR --key PUBLIC.pem [--passes N] [--jobs N]');
const passes = positiveInt(argValue(argv, 'passes') ?? '4', '--passes');
const jobs = positiveInt(argValue(argv, 'jobs') ?? '1', '--jobs');
const keys = new TrustedKeySet([loadPublicKey(await readFile(keyPath, 'utf8'))]);
const reader = new FolderReader(dir);
for (let pass = 1; pass <= passes; pass++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const pool =
    jobs > 1 ? new ChunkWorkerPool(jobs, { worker: BUNDLED_WORKER, takeBuffers: true }) : undefined;
  let report: Awaited<ReturnType<typeof verifyFolder>>;
  try {
    report = await verifyFolder(reader, { keys, ...(pool ? { chunks: pool } : {}) });
  } finally {
    await pool?.close();
  }
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `pass ${pass}: valid ${report.valid}, ${report.stats.events} events, ${((performance.now() - t0) / 1000).toFixed(3)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(3)} s CPU\n`,
  );
}
