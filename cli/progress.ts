/** A one-line progress bar on stderr, drawn only when stderr is a terminal. At most ~10 redraws a second. */
export class ProgressBar {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly enabled: boolean = Boolean(process.stderr.isTTY),
    private readonly unit: 'bytes' | 'items' = 'items',
  ) {}

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const width = 30;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * width);
    const fmt = (n: number): string => (this.unit === 'bytes' ? formatBytes(n) : String(n));
    const text = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${fmt(done)}/${fmt(total)}`;
    process.stderr.write(`\r${text}\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.enabled && this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** Human-readable byte count. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
