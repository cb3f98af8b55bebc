/**
 * Why ingest's response is written with one `JSON.stringify`: the same 201 body for 500 receipts, built
 * by `JSON.stringify` (what functions/ingest-events.ts does) and by splicing each receipt from text
 * templates with the batch's shared parts (statement, signature) serialized once. Both bodies are checked
 * to be byte-identical first; then CPU per event, best of R.
 *
 *   node --import tsx bench/ingest-response.ts [--reps R]
 *
 * Last line: one JSON object. docs/BENCHMARKS.md ("Ingest") quotes it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { KeyFileSigner } from '../shared/crypto/key-file-signer.ts';
import { signBatch } from '../shared/ledger/batch-receipts.ts';
import { argValue, positiveInt, round } from './bench-args.ts';

const BATCH = 500;
const ROUNDS = 200;

async function main(): Promise<void> {
  const reps = positiveInt(argValue(process.argv.slice(2), 'reps') ?? '7', '--reps');
  const receivedAt = new Date().toISOString();
  const leaves = Array.from({ length: BATCH }, () => ({
    eventId: randomUUID(),
    receivedAt,
    leafHash: createHash('sha256').update(randomUUID()).digest(),
  }));
  const { receipts } = await signBatch({ ledger: 'bench', batchId: 'b', leaves }, KeyFileSigner.generate());
  const stored = leaves.map((l) => l.eventId);

  const stringify = () => JSON.stringify({ stored, duplicates: [], receipts });
  const spliced = () => {
    const statement = JSON.stringify(receipts[0]!.statement);
    const signature = JSON.stringify(receipts[0]!.signature);
    const parts: string[] = [];
    for (const r of receipts) {
      let path = '';
      for (const h of r.auditPath) path += path === '' ? `"${h}"` : `,"${h}"`;
      parts.push(
        `{"type":"${r.type}","eventId":${JSON.stringify(r.eventId)},"receivedAt":"${r.receivedAt}","leafHash":"${r.leafHash}","leafIndex":${r.leafIndex},"auditPath":[${path}],"statement":${statement},"signature":${signature}}`,
      );
    }
    return `{"stored":${JSON.stringify(stored)},"duplicates":[],"receipts":[${parts.join(',')}]}`;
  };
  if (spliced() !== stringify()) throw new Error('the spliced body differs from JSON.stringify');

  const cpuPerEvent = (build: () => string): number => {
    const start = process.cpuUsage();
    let length = 0;
    for (let i = 0; i < ROUNDS; i++) length += build().length;
    const spent = process.cpuUsage(start);
    if (length === 0) throw new Error('empty bodies');
    return (spent.user + spent.system) / ROUNDS / BATCH;
  };
  let bestStringify = Number.POSITIVE_INFINITY;
  let bestSpliced = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < reps; rep++) {
    bestStringify = Math.min(bestStringify, cpuPerEvent(stringify));
    bestSpliced = Math.min(bestSpliced, cpuPerEvent(spliced));
  }
  process.stdout.write(
    `201 body of ${BATCH} receipts, byte-identical both ways: JSON.stringify ${bestStringify.toFixed(2)} us CPU/event, spliced templates ${bestSpliced.toFixed(2)} us CPU/event (best of ${reps})\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ batch: BATCH, reps, stringify_cpu_us_per_event: round(bestStringify, 2), spliced_cpu_us_per_event: round(bestSpliced, 2) })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
