/**
 * Generates the worked example of docs/FORMAT.md §10 from the real code, with the demo key in
 * test/fixtures/keys. Run: `node --import tsx scripts/format-example.ts > /tmp/example.md`.
 * test/unit/format-doc.test.ts regenerates it and checks that the document still matches the code.
 */

import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KeyFileSigner } from '../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import { canonicalizeEvent } from '../shared/ingest/canonical-event.ts';
import { batchLeafHash, signBatch } from '../shared/ledger/batch-receipts.ts';
import { digestObjectKey } from '../shared/ledger/object-keys.ts';
import { sealPeriod } from '../shared/ledger/seal-period.ts';
import { hashChildren, sha256 } from '../shared/merkle/rfc6962.ts';
import type { Signer } from '../shared/ports/signer.ts';
import { InMemoryObjectStore } from '../shared/storage/in-memory-object-store.ts';

const keyDir = fileURLToPath(new URL('../test/fixtures/keys/', import.meta.url));

/** Signs with the demo key, or replays given signatures (checked) so the output is reproducible. */
function exampleSigner(replay: readonly Buffer[]): Signer {
  const inner = new KeyFileSigner(readFileSync(`${keyDir}example-private.pem`, 'utf8'));
  const queue = [...replay];
  return {
    keyId: () => inner.keyId(),
    publicKeyPem: () => inner.publicKeyPem(),
    async sign(statement) {
      const given = queue.shift();
      if (!given) return inner.sign(statement);
      const key = createPublicKey(await inner.publicKeyPem());
      if (!verify('sha256', statement, { key, dsaEncoding: 'der' }, given))
        throw new Error('replayed signature does not verify');
      return given;
    },
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const fence = (lang: string, body: string): string => `\`\`\`${lang}\n${body}\n\`\`\``;

/** Renders §10. `replay` = [batch signature, digest signature] to reproduce a previous rendering. */
export async function renderExample(replay: readonly Buffer[] = []): Promise<string> {
  const signer = exampleSigner(replay);
  const receivedAt = '2026-11-22T21:04:05.123Z';
  const inputs = ['alice', 'bob', 'carol'].map((who, i) => ({
    id: `evt-000${i + 1}`,
    eventTime: `2026-11-22T21:04:0${i}Z`,
    actor: { id: `arn:aws:iam::111122223333:user/${who}`, type: 'user' as const, mfa: i !== 1 },
    action: 'ssh:Login',
    resource: { id: 'i-0abc1234def567890', type: 'AWS::EC2::Instance' },
    outcome:
      i === 2 ? { result: 'failure' as const, errorCode: 'AccessDenied' } : { result: 'success' as const },
  }));
  const events = inputs.map((input) => canonicalizeEvent(input, receivedAt, 'api'));
  const batch = await signBatch(
    {
      ledger: 'example',
      batchId: 'b-example',
      leaves: events.map((e) => ({ eventId: e.event.id, receivedAt, leafHash: e.leafHash })),
    },
    signer,
  );
  const store = new InMemoryObjectStore();
  const period = { startMs: Date.parse('2026-11-22T21:00:00Z'), seconds: 3600 };
  const sealed = await sealPeriod(
    {
      ledger: 'example',
      period,
      previous: null,
      rows: events.map((e) => ({ id: e.event.id, bytes: e.bytes, receivedAt, batchId: 'b-example' })),
      batches: [
        {
          ledger: 'example',
          batchId: 'b-example',
          receivedAt,
          statement: Buffer.from(batch.statementBytes).toString('utf8'),
          signature: batch.signature,
          size: events.length,
          leaves: events.map((e) => ({ eventId: e.event.id, receivedAt, leafHash: e.leafHash })),
        },
      ],
      keys: new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]),
      chunkLeaves: 2,
    },
    { store, signer },
  );
  const get = (key: string): Uint8Array => store.objects.get(key)!;
  const digestKey = digestObjectKey('example', period, 'digest');
  const statementKey = digestObjectKey('example', period, 'statement');
  const signatureKey = digestObjectKey('example', period, 'signature');
  const [l0, l1, l2] = events.map((e) => e.leafHash) as [Buffer, Buffer, Buffer];
  const chunk0 = hashChildren(l0, l1);
  const idx1 = get('archives/example/2026/11/22/20261122T210000Z-3600s/000001.idx');
  const batchKey = 'archives/example/2026/11/22/20261122T210000Z-3600s/batches-000000.jsonl';
  const out: string[] = [];
  out.push(
    'Ledger `example`, one period (2026-11-22T21:00:00Z, 3600 s), three events received in one batch,',
    'sealed with `chunkLeaves` 2 (so two chunks) and signed with the demo key',
    '`test/fixtures/keys/example-public.pem`:',
    '',
    fence('text', (await signer.publicKeyPem()).trim()),
    '',
    `Key id (SHA-256 of the SubjectPublicKeyInfo DER): \`${await signer.keyId()}\``,
    '',
    '### 10.1 Events and leaves',
    '',
    'Canonical bytes of the first event (UTF-8, 0x0A not included):',
    '',
    fence('json', text(events[0]!.bytes)),
    '',
    `Its first 16 bytes in hex: \`${hex(events[0]!.bytes.subarray(0, 16))}\`; its length: ${events[0]!.bytes.length} bytes.`,
    '',
    '| event | leaf hash `SHA-256(0x00 ‖ bytes)` |',
    '| --- | --- |',
    ...events.map((e) => `| \`${e.event.id}\` | \`${hex(e.leafHash)}\` |`),
    '',
    'Batch leaves `BL = SHA-256(0x00 ‖ LH ‖ SHA-256(UTF-8 id) ‖ UTF-8 receivedAt)` (§8), all received at',
    `\`${receivedAt}\`:`,
    '',
    '| event | batch leaf |',
    '| --- | --- |',
    ...events.map(
      (e) =>
        `| \`${e.event.id}\` | \`${hex(batchLeafHash({ eventId: e.event.id, receivedAt, leafHash: e.leafHash }))}\` |`,
    ),
    '',
    '### 10.2 Chunks, index and roots',
    '',
    `- chunk 0 root = \`SHA-256(0x01 ‖ leaf0 ‖ leaf1)\` = \`${hex(chunk0)}\``,
    `- chunk 1 root = leaf2 = \`${hex(l2)}\``,
    `- period root = \`SHA-256(0x01 ‖ chunk0 ‖ chunk1)\` = \`${hex(hashChildren(chunk0, l2))}\``,
    `- \`000001.idx\` (64 bytes: leaf2 ‖ SHA-256("evt-0003")) = \`${hex(idx1)}\``,
    `- \`000000.jsonl\` is ${get('archives/example/2026/11/22/20261122T210000Z-3600s/000000.jsonl').length} bytes: the first two events' canonical bytes, each followed by 0x0A.`,
    '',
    '`batches-000000.jsonl` holds the one batch record of the period (§5.1), then 0x0A:',
    '',
    fence('json', text(get(batchKey)).trimEnd()),
    '',
    '### 10.3 Digest',
    '',
    `\`${digestKey}\`:`,
    '',
    fence('json', text(get(digestKey))),
    '',
    `SHA-256 of these bytes: \`${hex(sha256(get(digestKey)))}\``,
    '',
    '### 10.4 Statement and signature',
    '',
    `\`${statementKey}\`:`,
    '',
    fence('json', text(get(statementKey))),
    '',
    `SHA-256 of the statement (what the next period's \`previousStatementSha256\` would be): \`${sealed.statementSha256}\``,
    '',
    `\`${signatureKey}\`, DER, in hex (ECDSA is randomized: a re-run signs differently; any valid signature is accepted):`,
    '',
    fence('text', `digest-signature-hex: ${hex(get(signatureKey))}`),
    '',
    '### 10.5 Receipt',
    '',
    'The receipt of `evt-0002` from the ingest batch (batch root over the three batch leaves above):',
    '',
    fence('json', JSON.stringify(batch.receipts[1], null, 2)),
  );
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${await renderExample()}\n`);
}
