import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import { FolderObjectStore } from '../../../shared/storage/folder-object-store.ts';
import { sealSignedPeriod } from '../../support/signed-seal.ts';

const formatDoc = readFileSync(fileURLToPath(new URL('../../../docs/FORMAT.md', import.meta.url)), 'utf8');
const keyDir = fileURLToPath(new URL('../../fixtures/keys/', import.meta.url));

/** The shell block of §7 "Checking one digest by hand", exactly as documented. */
function byHandBlock(): string {
  const at = formatDoc.indexOf('Checking one digest by hand');
  const start = formatDoc.indexOf('```sh\n', at);
  const end = formatDoc.indexOf('\n```', start + 6);
  if (at < 0 || start < 0 || end < 0) throw new Error('FORMAT.md §7 has no by-hand block');
  return formatDoc.slice(start + 6, end);
}

describe('Document: docs/FORMAT.md §7 (checking a digest by hand)', () => {
  let dir: string;
  let statement: { digestSha256: string; keyId: string };

  beforeAll(async () => {
    // Prepare: the §10 example period, sealed into a folder, with its trusted public key beside it.
    dir = mkdtempSync(join(tmpdir(), 'auditseal-by-hand-'));
    const signer = new KeyFileSigner(readFileSync(join(keyDir, 'example-private.pem'), 'utf8'));
    writeFileSync(join(dir, 'trusted.pem'), await signer.publicKeyPem());
    const receivedAt = '2026-11-22T21:04:05.123Z';
    const events = ['alice', 'bob'].map((who, i) =>
      canonicalizeEvent(
        {
          id: `evt-000${i + 1}`,
          eventTime: '2026-11-22T21:04:00Z',
          actor: { id: who, type: 'user' },
          action: 'ssh:Login',
          outcome: { result: 'success' },
        },
        receivedAt,
        'api',
      ),
    );
    await sealSignedPeriod(
      {
        ledger: 'example',
        period: { startMs: Date.parse('2026-11-22T21:00:00Z'), seconds: 3600 },
        previous: null,
        events: events.map((e) => ({ id: e.event.id, bytes: e.bytes, receivedAt })),
      },
      { store: new FolderObjectStore(dir), signer },
    );
    statement = JSON.parse(
      readFileSync(join(dir, 'digests/example/2026/11/22/20261122T210000Z-3600s.statement.json'), 'utf8'),
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as written, and each line prints what the document says', () => {
    // Act
    const output = execFileSync('bash', ['-euo', 'pipefail', '-c', byHandBlock()], {
      cwd: dir,
      encoding: 'utf8',
    });

    // Assess
    const lines = output.trim().split('\n');
    expect(lines[0]).toBe('Verified OK');
    expect(lines[1]?.split(/\s+/)[0]).toBe(statement.digestSha256);
    expect(lines[2]?.split(/\s+/)[0]).toBe(statement.keyId);
  });
});
