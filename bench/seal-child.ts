/**
 * Child process of the benchmark: generates N synthetic events lazily and seals them as one period into
 * a folder with the real sealPeriod, FolderObjectStore and KeyFileSigner. Running alone in its own process
 * makes `maxRSS` the peak memory of generation plus sealing, and nothing else.
 *
 *   node --import tsx bench/seal-child.ts --events N --out DIR --key-out PUBLIC.pem
 *
 * Last stdout line: JSON with events, bytes, seal_s, generate_s, cpu_s, baseline_rss_mb, peak_rss_mb, root.
 * RSS figures are MiB (`maxRSS` is reported in KiB).
 */
import { writeFile } from 'node:fs/promises';
import { KeyFileSigner } from '../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import type { SealableEvent } from '../shared/ledger/archive-chunk.ts';
import { MAX_BATCH_LEAVES } from '../shared/ledger/formats.ts';
import { sealPeriod } from '../shared/ledger/seal-period.ts';
import { importBatches, importBatchId } from '../shared/ledger/seal-range.ts';
import type { PeriodEvent } from '../shared/ports/ledger-store.ts';
import { FolderObjectStore } from '../shared/storage/folder-object-store.ts';
import { argValue, peakRssMb, positiveInt, round } from './bench-args.ts';
import { BENCH_LEDGER, BENCH_PERIOD, SyntheticEvents } from './synthetic-events.ts';

interface GeneratorCost {
  ns: bigint;
  bytes: number;
  count: number;
}

/** Passes events through while adding up the time spent producing them and their canonical bytes. */
function* metered(
  inner: Iterator<SealableEvent & { receivedAt: string }>,
  cost: GeneratorCost,
): Generator<PeriodEvent> {
  for (;;) {
    const t0 = process.hrtime.bigint();
    const next = inner.next();
    cost.ns += process.hrtime.bigint() - t0;
    if (next.done) return;
    cost.bytes += next.value.bytes.length;
    yield {
      ...next.value,
      batchId: importBatchId(BENCH_PERIOD, Math.floor(cost.count++ / MAX_BATCH_LEAVES)),
    };
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const events = positiveInt(argValue(argv, 'events'), '--events');
  const out = argValue(argv, 'out');
  const keyOut = argValue(argv, 'key-out');
  if (!out || !keyOut) throw new Error('usage: seal-child.ts --events N --out DIR --key-out PUBLIC.pem');

  const signer = KeyFileSigner.generate();
  await writeFile(keyOut, await signer.publicKeyPem());
  const store = new FolderObjectStore(out);
  const baseline = process.memoryUsage().rss / 2 ** 20;

  const cost: GeneratorCost = { ns: 0n, bytes: 0, count: 0 };
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // Canonicalizing the generator's distinct bodies is generation work too.
  const source = new SyntheticEvents(events, BENCH_PERIOD);
  cost.ns += process.hrtime.bigint() - t0;
  const sealed = await sealPeriod(
    {
      ledger: BENCH_LEDGER,
      period: BENCH_PERIOD,
      previous: null,
      rows: metered(source[Symbol.iterator](), cost),
      // The import path of `auditseal seal`, block by block: one Sign per MAX_BATCH_LEAVES events, no
      // receipts (ingest's answer to its client never reaches a sealer). The generator is deterministic,
      // so this second pass over it yields the same events the rows carry.
      batches: importBatches(BENCH_LEDGER, BENCH_PERIOD, source, { signer }),
      keys: new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]),
    },
    { store, signer },
  );
  const sealS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const peak = peakRssMb();
  if (sealed.treeSize !== events) throw new Error(`sealed ${sealed.treeSize} events, expected ${events}`);

  const result = {
    events,
    bytes: cost.bytes,
    archive_bytes: cost.bytes + events,
    seal_s: round(sealS, 3),
    generate_s: round(Number(cost.ns) / 1e9, 3),
    cpu_s: round((cpu.user + cpu.system) / 1e6, 3),
    baseline_rss_mb: round(baseline, 1),
    peak_rss_mb: round(peak, 1),
    heap_used_mb_end: round(process.memoryUsage().heapUsed / 2 ** 20, 1),
    root: sealed.rootHash,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
