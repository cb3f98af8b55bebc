/**
 * The page's default `--jobs`: one chunk worker per core the browser reports, as the CLI defaults to its
 * cores, at most DEFAULT_JOBS_CAP; none (the verifier alone in its worker) for a small folder, and none
 * on a machine of CHUNK_WORKERS_FROM_CORES - 1 cores or fewer. There the verification worker, the read
 * worker and the browser's file reading already keep both cores busy, and chunk workers only add their
 * own cost: on the benchmark's 2-core machine, 1M events took 13.2 s and 20.7 s of CPU with the verifier
 * alone against 15.7 s and 29.2 s with two chunk workers (docs/BENCHMARKS.md, "Auditor's page").
 * Starting chunk workers (a new JavaScript heap each, compiled and warmed up anew) costs about a second,
 * which a small folder does not win back: on the benchmark machine two workers were slower than none on
 * 100,000 events (100 MB of archives) and faster on 1,000,000 (docs/BENCHMARKS.md, "Auditor's page").
 * The report is the same whatever the number.
 */

/** Most chunk workers the page starts by default: each holds two chunks and a heap of its own. */
export const DEFAULT_JOBS_CAP = 4;

/** Cores (as the browser reports them) from which the page starts chunk workers by default. */
export const CHUNK_WORKERS_FROM_CORES = 3;

/** Archive bytes from which the page starts chunk workers by default. */
export const CHUNK_WORKERS_FROM_BYTES = 256 * 1024 * 1024;

/**
 * `archiveBytes`: the picked folder's archive chunks in bytes (undefined when not known, as for a folder
 * served by `auditseal ui`); `cores`: `navigator.hardwareConcurrency` (may be missing or 0).
 */
export function defaultJobs(archiveBytes: number | undefined, cores: number | undefined): number {
  if (archiveBytes !== undefined && archiveBytes < CHUNK_WORKERS_FROM_BYTES) return 1;
  const n = Math.floor(Number(cores));
  return Number.isFinite(n) && n >= CHUNK_WORKERS_FROM_CORES ? Math.min(n, DEFAULT_JOBS_CAP) : 1;
}
