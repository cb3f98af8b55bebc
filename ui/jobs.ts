/**
 * The page's default `--jobs`: chunk workers only where there are cores to spare for them. The verifier's
 * own worker (which merges the results in order) and the browser process (which reads the picked files)
 * each keep a core busy, so the page starts one chunk worker per core beyond those two, at most
 * DEFAULT_JOBS_CAP, and none (the verifier alone in its worker, `1`) on one or two cores or for a small
 * folder. On the 2-core benchmark machine, quiet, two chunk workers took 24.3 s on 1,000,000 events
 * against 22.1 s for none, with 20 % more CPU (docs/BENCHMARKS.md, "Auditor's page"); starting them (a new
 * JavaScript heap each, compiled and warmed up anew) also costs about a second, which a folder under
 * 256 MiB of archives does not win back. Machines with more cores were not measured. The report is the
 * same whatever the number.
 */

/** Most chunk workers the page starts by default: each holds two chunks and a heap of its own. */
export const DEFAULT_JOBS_CAP = 4;

/** Cores left to the verification worker and the browser process before any chunk worker starts. */
export const CORES_KEPT = 2;

/** Archive bytes from which the page starts chunk workers by default. */
export const CHUNK_WORKERS_FROM_BYTES = 256 * 1024 * 1024;

/**
 * `archiveBytes`: the picked folder's archive chunks in bytes (undefined when not known, as for a folder
 * served by `auditseal ui`); `cores`: `navigator.hardwareConcurrency` (may be missing or 0).
 */
export function defaultJobs(archiveBytes: number | undefined, cores: number | undefined): number {
  if (archiveBytes !== undefined && archiveBytes < CHUNK_WORKERS_FROM_BYTES) return 1;
  const n = Math.floor(Number(cores));
  if (!Number.isFinite(n) || n <= CORES_KEPT) return 1;
  return Math.min(n - CORES_KEPT, DEFAULT_JOBS_CAP);
}
