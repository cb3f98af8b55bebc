/**
 * Runs an ingest benchmark with the V8 heap of the deployed ingest function: the flags Lambda's Node.js
 * runtime gives a function of `WRITER_MEMORY_MIB` (infra/constructs/lambda-heap.ts), which the functions
 * also set in `NODE_OPTIONS`. Without them the handler would be measured with Node's own default young
 * generation (16 MiB semi-spaces), which no deployed function has. `--node-heap-defaults` measures that
 * instead, for comparison.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lambdaHeapFlags, WRITER_MEMORY_MIB } from '../infra/constructs/lambda-heap.ts';

const DEFAULTS_OPTION = '--node-heap-defaults';

/** The heap flags this process runs with (`[]`: Node's defaults). */
export function heapFlagsInUse(): string[] {
  return process.execArgv.filter(
    (a) => a.startsWith('--max-semi-space-size') || a.startsWith('--max-old-space-size'),
  );
}

/**
 * Re-runs the calling script in a child `node` with the deployed function's heap flags, unless this
 * process already has them or `--node-heap-defaults` was given; resolves to true when it did (the
 * caller then stops: the child did the work, and its exit status is this process's).
 */
export async function reRunWithLambdaHeap(scriptUrl: string): Promise<boolean> {
  const argv = process.argv.slice(2);
  const wanted = lambdaHeapFlags(WRITER_MEMORY_MIB);
  if (argv.includes(DEFAULTS_OPTION) || wanted.every((f) => process.execArgv.includes(f))) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...wanted, fileURLToPath(scriptUrl), ...argv], {
    stdio: 'inherit',
  });
  const code = await new Promise<number>((resolve) => {
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  });
  process.exitCode = code;
  return true;
}

/** For the last-line JSON: which heap the figures were measured with. */
export function heapFigures(): { node_heap_flags: string; lambda_memory_mib: number | null } {
  const flags = heapFlagsInUse();
  return {
    node_heap_flags: flags.length === 0 ? 'node defaults' : flags.join(' '),
    lambda_memory_mib: flags.length === 0 ? null : WRITER_MEMORY_MIB,
  };
}
