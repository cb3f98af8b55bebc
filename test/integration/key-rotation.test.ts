/**
 * Key rotation on the real local stack (DynamoDB Local + moto, the handlers `npm start` serves, 60 s
 * periods): a period is sealed under the first key, `auditseal local rotate-key` hands the KMS alias to a
 * new key, a later period is sealed under it, and GET /v1/keys lists both with their windows. The
 * downloaded range verifies VALID with both keys trusted; a statement re-signed with the retired key for a
 * period after the rotation is KEY_OUTSIDE_WINDOW (FORMAT.md §9.4).
 *
 * Steps build on each other; the file waits for two periods to be sealed (about three minutes).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsSigner } from '../../adapters/kms/kms-signer.ts';
import { type DownloadSummary, runDownload } from '../../cli/commands/download.ts';
import { runVerify } from '../../cli/commands/verify.ts';
import { rotateLocalSigningKey } from '../../local/rotate-key.ts';
import { loadLocalFunctions } from '../../local/routes.ts';
import { canonicalBytes } from '../../shared/canonical/jcs.ts';
import { digestStatementSchema } from '../../shared/ledger/formats.ts';
import { isoSeconds } from '../../shared/ledger/period.ts';
import { until } from '../support/dynamodb-local.ts';
import type { TestLocalStack } from '../support/local-stack.ts';
import { startTestLocalStack } from '../support/local-stack.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const PERIOD_MS = 60_000;

let stack: TestLocalStack;
let scratch: string;
let kms: KMSClient;
/** The first key: its KMS id, PEM and key id, as local.json named them before the rotation. */
let first: { kmsKeyId: string; pem: string; keyId: string };
let rotated: Awaited<ReturnType<typeof rotateLocalSigningKey>>;
let beforePeriodMs = 0;
let afterPeriodMs = 0;
let folder: string;
let download: DownloadSummary;

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await signedFetch(stack.info.endpoint, stack.info.roles.auditor, { path });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Posts one event and returns its receivedAt, retrying with the same id as a client does (an attempt may
 * meet the alias switch: the signer then forgets the old key and the retry signs under the new one).
 */
async function post(id: string): Promise<number> {
  const body = JSON.stringify({
    events: [
      {
        id,
        eventTime: new Date().toISOString(),
        actor: { id: 'alice@example.com', type: 'user' },
        action: 'kms:UpdateAlias',
        resource: { id: 'alias/auditseal', type: 'AWS::KMS::Alias' },
        outcome: { result: 'success' },
      },
    ],
  });
  let status = 0;
  let receivedAt = '';
  await until(async () => {
    const response = await signedFetch(stack.info.endpoint, stack.info.roles.writer, {
      method: 'POST',
      path: '/v1/events',
      body,
    });
    const answer = (await response.json()) as { receipts?: { receivedAt: string }[] };
    status = response.status;
    receivedAt = answer.receipts?.[0]?.receivedAt ?? '';
    return status === 201;
  }, 20_000);
  expect(status).toBe(201);
  return Date.parse(receivedAt);
}

async function waitForSeal(periodStartMs: number): Promise<void> {
  const sealed = await until(async () => {
    const { body } = await get(`/v1/digests?from=${isoSeconds(periodStartMs)}&limit=10`);
    return ((body['digests'] ?? []) as { periodStart: string }[]).some(
      (d) => d.periodStart === isoSeconds(periodStartMs),
    );
  }, 200_000);
  expect(sealed, `period ${isoSeconds(periodStartMs)} sealed`).toBe(true);
}

function statementKeyId(dir: string, periodStartMs: number): string {
  const day = isoSeconds(periodStartMs).slice(0, 10).replaceAll('-', '/');
  const label = isoSeconds(periodStartMs).replace(/[-:]/g, '');
  const path = join(dir, 'digests', stack.info.ledger, day, `${label}-60s.statement.json`);
  return digestStatementSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).keyId;
}

beforeAll(async () => {
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'ERROR';
  scratch = mkdtempSync(join(tmpdir(), 'auditseal-rotation-'));
  stack = await startTestLocalStack({
    periodSeconds: 60,
    heartbeatOffsetSeconds: 16,
    functions: loadLocalFunctions,
  });
  kms = new KMSClient({
    region: stack.info.region,
    endpoint: stack.info.kmsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  first = { kmsKeyId: stack.info.kmsKeyId, pem: stack.info.publicKeyPem, keyId: stack.info.signingKeyId };
}, 120_000);

afterAll(async () => {
  kms?.destroy();
  await stack?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('Key rotation on the local stack', () => {
  it('seals a period under the first key', async () => {
    beforePeriodMs = Math.floor((await post('before-rotation')) / PERIOD_MS) * PERIOD_MS;
    await waitForSeal(beforePeriodMs);
  }, 240_000);

  it('rotates: the alias moves to a new key and local.json names it', async () => {
    // Act
    rotated = await rotateLocalSigningKey(stack.localFile);

    // Assess
    const info = JSON.parse(readFileSync(stack.localFile, 'utf8')) as { signingKeyId: string };
    expect(rotated.previousKeyId).toBe(first.keyId);
    expect(rotated.keyId).not.toBe(first.keyId);
    expect(info.signingKeyId).toBe(rotated.keyId);
  });

  it('seals a later period under the new key', async () => {
    afterPeriodMs = Math.floor((await post('after-rotation')) / PERIOD_MS) * PERIOD_MS;
    expect(afterPeriodMs).toBeGreaterThan(beforePeriodMs);
    await waitForSeal(afterPeriodMs);
  }, 240_000);

  it('GET /v1/keys lists both keys with their windows and signed records', async () => {
    // Act
    const { status, body } = await get('/v1/keys');

    // Assess
    expect(status).toBe(200);
    const keys = body['keys'] as {
      keyId: string;
      status: string;
      notBefore: string | null;
      notAfter: string | null;
      record: unknown;
    }[];
    expect(keys.map((k) => [k.keyId, k.status, k.notBefore, k.notAfter])).toEqual([
      [rotated.keyId, 'active', rotated.notBefore, null],
      [first.keyId, 'retired', null, rotated.notBefore],
    ]);
    for (const key of keys)
      expect(key.record).toEqual(expect.objectContaining({ type: 'auditseal.key-record.v1' }));
  });

  it('downloads the range across the rotation, which verifies VALID with both keys trusted', async () => {
    // Prepare
    folder = join(scratch, 'download');
    writeFileSync(join(scratch, 'first.pem'), first.pem);
    writeFileSync(join(scratch, 'second.pem'), rotated.publicKeyPem);

    // Act
    download = await runDownload(
      { fromMs: beforePeriodMs, toMs: afterPeriodMs + PERIOD_MS, out: folder, json: true },
      { endpoint: stack.info.endpoint, region: stack.info.region, credentials: stack.info.roles.auditor },
    );
    const report = await runVerify({
      dir: folder,
      keys: [join(scratch, 'first.pem'), join(scratch, 'second.pem')],
      deep: false,
      json: true,
    });

    // Assess
    expect(download.keys).toEqual([rotated.keyId, first.keyId]);
    expect(statementKeyId(folder, beforePeriodMs)).toBe(first.keyId);
    expect(statementKeyId(folder, afterPeriodMs)).toBe(rotated.keyId);
    expect(report.findings).toEqual([]);
    expect(report.valid).toBe(true);
  });

  describe('when the retired key signs the statement of a period after the rotation', () => {
    it('is KEY_OUTSIDE_WINDOW', async () => {
      // Prepare: the statement of the last period, re-signed by the first key (still in moto KMS).
      const forged = join(scratch, 'forged');
      cpSync(folder, forged, { recursive: true });
      const day = isoSeconds(afterPeriodMs).slice(0, 10).replaceAll('-', '/');
      const base = join(
        forged,
        'digests',
        stack.info.ledger,
        day,
        `${isoSeconds(afterPeriodMs).replace(/[-:]/g, '')}-60s`,
      );
      const statement = digestStatementSchema.parse(
        JSON.parse(readFileSync(`${base}.statement.json`, 'utf8')),
      );
      const bytes = canonicalBytes({ ...statement, keyId: first.keyId });
      const retired = new KmsSigner({ client: kms, keyId: first.kmsKeyId });
      writeFileSync(`${base}.statement.json`, bytes);
      writeFileSync(`${base}.sig`, await retired.sign(bytes));

      // Act
      const report = await runVerify({
        dir: forged,
        keys: [join(scratch, 'first.pem'), join(scratch, 'second.pem')],
        deep: false,
        json: true,
      });

      // Assess
      expect(report.findings.map((f) => [f.code, f.object])).toEqual([
        ['KEY_OUTSIDE_WINDOW', `${base.slice(forged.length + 1)}.statement.json`],
      ]);
    });
  });
});
