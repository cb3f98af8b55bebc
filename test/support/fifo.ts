/** Special files for the hostile-folder tests: FIFOs (mkfifo(1), present on every POSIX system). */
import { execFileSync } from 'node:child_process';

/** Creates a FIFO at `path`. */
export function mkfifoSync(path: string): void {
  execFileSync('mkfifo', [path]);
}
