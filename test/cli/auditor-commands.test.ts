/**
 * The auditor's online commands, `auditseal download` and `auditseal head`, end to end over real HTTP:
 * the real auditor handlers behind the local gateway (SigV4, roles), over in-memory storage holding
 * periods sealed from the real CloudTrail sample, and a small server standing in for S3's presigned
 * links. Then `auditseal verify` on what was downloaded, with and without the head.
 */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import {
  type AuditorDeps,
  createGetDigestHandler,
  createGetHeadHandler,
  createGetKeysHandler,
  createListDigestsHandler,
} from '../../functions/auditor-handlers.ts';
import { type LocalGateway, startGateway } from '../../local/gateway.ts';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { digestObjectKey } from '../../shared/ledger/object-keys.ts';
import { sealRange } from '../../shared/ledger/seal-range.ts';
import { InMemoryObjectStore } from '../../shared/storage/in-memory-object-store.ts';
import { InMemorySealRegistry } from '../../shared/storage/in-memory-seal-registry.ts';
import { loadCloudTrailSample, removeFolder, TEST_LEDGER, tempFolder } from '../support/sealed-folder.ts';

const HOUR = 3600;
const GRACE = 15;
const WINDOW = { fromMs: Date.parse('2024-07-31T12:00:00Z'), toMs: Date.parse('2024-07-31T20:00:00Z') };
const credentials = {
  writer: { accessKeyId: 'AKIATESTWRITER000001', secretAccessKey: 'w'.repeat(40) },
  reader: { accessKeyId: 'AKIATESTREADER000001', secretAccessKey: 'r'.repeat(40) },
  auditor: { accessKeyId: 'AKIATESTAUDITOR00001', secretAccessKey: 'a'.repeat(40) },
};

const work = tempFolder('auditor-cli');
const signer = KeyFileSigner.generate();
const objects = new InMemoryObjectStore();
const registry = new InMemorySealRegistry();
let gateway: LocalGateway;
let links: Server;
let localFile: string;
let publicKey: string;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main()` in this process, capturing what it writes. Keep such tests serial. */
async function auditseal(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(['node', 'auditseal', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

beforeAll(async () => {
  // Eight hourly periods, 2024-07-31 12:00 … 19:00, sealed and recorded as the sealer does.
  const sealed = await sealRange(
    {
      ledger: TEST_LEDGER,
      seconds: HOUR,
      events: loadCloudTrailSample(WINDOW),
      previous: null,
      chunkLeaves: 16,
      untilMs: WINDOW.toMs - 1,
    },
    { store: objects, signer },
  );
  for (const head of sealed) await registry.recordSeal(head);

  links = createServer(async (req, res) => {
    const bytes = await objects.get(decodeURIComponent((req.url ?? '').slice('/o/'.length)));
    res.writeHead(bytes ? 200 : 404).end(bytes ? Buffer.from(bytes) : undefined);
  });
  await new Promise<void>((resolve) => links.listen(0, '127.0.0.1', resolve));
  const linkBase = `http://127.0.0.1:${(links.address() as AddressInfo).port}/o/`;

  const deps: AuditorDeps = {
    ledger: TEST_LEDGER,
    schedule: { periodSeconds: HOUR, graceSeconds: GRACE },
    catalog: registry,
    objects,
    links: { urlFor: async (key) => `${linkBase}${encodeURIComponent(key)}` },
    signer,
    alarms: { list: async () => [] },
    logger: { error: () => undefined, warn: () => undefined, info: () => undefined },
    now: () => new Date(),
  };
  gateway = await startGateway({
    port: 0,
    region: 'us-east-1',
    credentials,
    routes: [
      { method: 'GET', path: '/v1/digests', role: 'auditor', handler: createListDigestsHandler(() => deps) },
      {
        method: 'GET',
        path: '/v1/digests/{id}',
        role: 'auditor',
        handler: createGetDigestHandler(() => deps),
      },
      { method: 'GET', path: '/v1/head', role: 'auditor', handler: createGetHeadHandler(() => deps) },
      { method: 'GET', path: '/v1/keys', role: 'auditor', handler: createGetKeysHandler(() => deps) },
    ],
  });
  localFile = join(work, 'local.json');
  writeFileSync(
    localFile,
    JSON.stringify({ endpoint: gateway.endpoint, region: 'us-east-1', roles: credentials }),
  );
  publicKey = join(work, 'trusted.pem');
  writeFileSync(publicKey, await signer.publicKeyPem());
});

afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => links?.close(resolve));
  removeFolder(work);
});

describe('Command: auditseal download', () => {
  describe('when --from falls inside a sealed period', () => {
    it('includes that period, writes a manifest, and the folder verifies VALID', async () => {
      // Prepare
      const out = join(work, 'inside');

      // Act
      const run = await auditseal(
        'download',
        '--from',
        '2024-07-31T12:36:51Z',
        '--to',
        '2024-07-31T14:00:00Z',
        '--out',
        out,
        '--local-file',
        localFile,
      );
      const verified = await auditseal('verify', out, '--key', publicKey);

      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(
        'Downloaded 2 digest(s), periods 2024-07-31T12:00:00Z … 2024-07-31T13:00:00Z',
      );
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({
        type: 'auditseal.download-manifest.v1',
        from: '2024-07-31T12:36:51.000Z',
        to: '2024-07-31T14:00:00.000Z',
        periodSeconds: HOUR,
        graceSeconds: GRACE,
      });
      expect(manifest.periods.map((p: { id: string }) => p.id)).toEqual([
        '20240731T120000Z-3600s',
        '20240731T130000Z-3600s',
      ]);
      const statementKey = digestObjectKey(
        TEST_LEDGER,
        { startMs: WINDOW.fromMs, seconds: HOUR },
        'statement',
      );
      expect(manifest.periods[0].statementSha256).toBe(
        createHash('sha256')
          .update(readFileSync(join(out, statementKey)))
          .digest('hex'),
      );
      expect(manifest.periods[0].objects).toContain(statementKey);
      // The manifest and the service's key file sit in the folder; the verifier ignores the first and
      // names the second without trusting it.
      expect(readdirSync(out).sort()).toEqual(['archives', 'digests', 'keys', 'manifest.json']);
      expect(verified.code, verified.stdout).toBe(0);
      expect(verified.stdout).toContain('VALID');
      expect(verified.stdout).toMatch(/key file\(s\) found inside the folder were NOT used/);
      expect(verified.stdout).toContain('(also passed with --key)');
    });
  });

  describe('when nothing is sealed in the range yet', () => {
    it('exits 0 and explains when the range will be sealed', async () => {
      // Act
      const run = await auditseal(
        'download',
        '--from',
        '2024-07-31T20:00:00Z',
        '--to',
        '2024-07-31T21:00:00Z',
        '--out',
        join(work, 'empty'),
        '--local-file',
        localFile,
      );

      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('nothing has been sealed in that range yet');
      expect(run.stdout).toContain(
        `periods are ${HOUR} s long and each is sealed about ${GRACE} s after it ends`,
      );
      expect(run.stdout).toContain('the newest sealed period starts 2024-07-31T19:00:00Z');
    });
  });

  describe.each([
    ['--from is 2026-13-01', ['--from', '2026-13-01', '--to', '2026-12-01'], 'month 13 does not exist'],
    ['--to is 2026-02-30', ['--from', '2026-02-01', '--to', '2026-02-30'], 'day 30 does not exist'],
  ])('when %s', (_, range, message) => {
    it('exits 2 with a clear message and writes nothing', async () => {
      // Prepare
      const out = join(work, 'never');

      // Act
      const run = await auditseal('download', ...range, '--out', out, '--local-file', localFile);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(() => readdirSync(out)).toThrow();
    });
  });
});

describe('Command: auditseal head', () => {
  describe('when periods are sealed', () => {
    it('saves the newest signed statement; verify --head then tells a cut folder from a whole one', async () => {
      // Prepare
      const head = join(work, 'head.json');
      const whole = join(work, 'whole');
      const cut = join(work, 'cut');
      const range = (to: string) => ['--from', '2024-07-31T12:00:00Z', '--to', to, '--local-file', localFile];
      expect((await auditseal('download', ...range('2024-07-31T20:00:00Z'), '--out', whole)).code).toBe(0);
      expect((await auditseal('download', ...range('2024-07-31T17:00:00Z'), '--out', cut)).code).toBe(0);

      // Act
      const saved = await auditseal('head', '--out', head, '--local-file', localFile);
      const onWhole = await auditseal('verify', whole, '--key', publicKey, '--head', head);
      const onCut = await auditseal('verify', cut, '--key', publicKey, '--head', head, '--json');

      // Assess
      expect(saved.code, saved.stderr).toBe(0);
      expect(saved.stdout).toContain('period 2024-07-31T19:00:00Z (3600 s), sequence 7');
      expect(onWhole.code, onWhole.stdout).toBe(0);
      expect(onWhole.stdout).toContain('reaches the head 2024-07-31T19:00:00Z (sequence 7)');
      expect(onCut.code).toBe(1);
      const report = JSON.parse(onCut.stdout);
      expect(report.findings).toEqual([
        expect.objectContaining({
          code: 'LEDGER_TRUNCATED',
          periods: { first: '2024-07-31T17:00:00Z', last: '2024-07-31T19:00:00Z', count: 3, seconds: HOUR },
        }),
      ]);
      expect(report.ledgers[0]).toMatchObject({
        firstPeriod: '2024-07-31T12:00:00Z',
        lastPeriod: '2024-07-31T16:00:00Z',
        head: { status: 'truncated', sequence: 7 },
      });
    });
  });

  describe('when the head file is changed', () => {
    it('verify exits 2: a head that does not verify cannot be used', async () => {
      // Prepare
      const head = join(work, 'head-tampered.json');
      expect((await auditseal('head', '--out', head, '--local-file', localFile)).code).toBe(0);
      const value = JSON.parse(readFileSync(head, 'utf8'));
      writeFileSync(head, JSON.stringify({ ...value, signature: Buffer.alloc(70, 1).toString('base64') }));

      // Act
      const run = await auditseal('verify', join(work, 'inside'), '--key', publicKey, '--head', head);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('has a signature that does not verify');
    });
  });
});
