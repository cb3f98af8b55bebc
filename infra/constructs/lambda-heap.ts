/**
 * The V8 heap flags a Lambda function runs with, from its memory size. No CDK import: the ingest
 * benchmark (bench/ingest.bench.ts) runs the handler with the same flags as the deployed function.
 *
 * Lambda's Node.js runtime starts `node` with a young generation of a tenth of the function's memory
 * (`new_space = memory / 10`, `--max-semi-space-size = new_space / 2`, `--max-old-space-size = memory -
 * new_space`, in MiB, integer division), where Node's own default semi-space is 16 MiB whatever the
 * memory. The functions set the same flags in `NODE_OPTIONS` themselves (infra/constructs/handler-function.ts),
 * so the heap they run with is written down here and does not depend on the runtime's start script.
 *
 * Why it matters: a request keeps its whole batch alive while it runs (500 parsed events, their
 * canonical bytes, the batch tree and the receipts: about 2 MB). With 16 MiB semi-spaces a 500-event
 * request fills the young generation about once, and each scavenge copies and promotes that live batch;
 * with 51 MiB, scavenges are about three times rarer (docs/BENCHMARKS.md, "Ingest").
 */

/** Memory of the functions that write events (ingest routes, forwarders). */
export const WRITER_MEMORY_MIB = 1024;

/** Node's own semi-space size: what `streaming` functions keep, so that their RSS stays flat. */
export const STREAMING_SEMI_SPACE_MIB = 16;

/**
 * `throughput`: the young generation Lambda's runtime gives the memory (fewer scavenges of what a request
 * keeps alive: the ingest handler spends about a fifth less CPU per event). `streaming`: Node's own 16 MiB
 * semi-spaces, for the sealer and the heartbeat, which stream a period through a bounded working set:
 * with the runtime's young generation for 2048 MiB (102 MiB semi-spaces) sealing 1M events peaked at
 * 428 MiB of RSS, against about 240 MiB with 16 MiB (docs/BENCHMARKS.md, "Sealing").
 */
export type HeapProfile = 'throughput' | 'streaming';

/** `--max-semi-space-size` and `--max-old-space-size` for a function of `memoryMiB` MiB. */
export function lambdaHeapFlags(memoryMiB: number, profile: HeapProfile = 'throughput'): string[] {
  if (!Number.isInteger(memoryMiB) || memoryMiB < 128 || memoryMiB > 10_240) {
    throw new RangeError(`Lambda memory is 128-10240 MiB, got ${memoryMiB}`);
  }
  const newSpace = Math.floor(memoryMiB / 10);
  const semiSpace = profile === 'streaming' ? STREAMING_SEMI_SPACE_MIB : Math.floor(newSpace / 2);
  return [`--max-semi-space-size=${semiSpace}`, `--max-old-space-size=${memoryMiB - newSpace}`];
}
