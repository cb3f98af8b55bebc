/**
 * Tiny argument helpers shared by the benchmark entry point and its child processes.
 * Children print one JSON object as their last stdout line; the parent parses it.
 */
import { spawn } from 'node:child_process';

/** The value after `--name`, or undefined. */
export function argValue(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? undefined : argv[at + 1];
}

/** A positive integer argument, or throws naming it. */
export function positiveInt(text: string | undefined, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new RangeError(`${what} must be a positive integer, got ${text}`);
  return n;
}

/** Peak resident set size of this process so far, in MiB (`maxRSS` is in KiB). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Rounds for printing and JSON. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Runs `node --import tsx <script> ...args` as a separate process so that its peak RSS is its own, and
 * returns the JSON object on its last stdout line. Stderr passes through for progress messages.
 */
export function runChild(
  script: string,
  args: readonly string[],
  nodeFlags: readonly string[] = [],
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`${script} exited with ${signal ?? code}\n${out}`));
        return;
      }
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`${script} did not end with a JSON line:\n${out}`));
      }
    });
  });
}
