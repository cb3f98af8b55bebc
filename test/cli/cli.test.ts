/**
 * The real `auditseal` command line, run as a child process (`node bin/auditseal.mjs …`) the way an
 * auditor runs it. The input is the CloudTrail sample's window 2024-07-30 … 2024-08-02 (288 records):
 * sealing all eleven years of the sample hourly would take minutes.
 *
 * The command is the esbuild bundle (built by test/support/build-cli.ts before the run). The contract
 * cases run concurrently, and the longer matrix of usage errors calls the same `main()` in-process.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { generateKeyPairPem } from '../../shared/crypto/keys.ts';
import { importLine } from '../../shared/ingest/import-lines.ts';
import { signBatch } from '../../shared/ledger/batch-receipts.ts';
import { digestStatementSchema } from '../../shared/ledger/formats.ts';
import { digestObjectKey } from '../../shared/ledger/object-keys.ts';
import { FINDING_CODES } from '../../shared/verify/findings.ts';
import { oneLine, sampleRecords } from '../support/cloudtrail-records.ts';
import { mkfifoSync } from '../support/fifo.ts';
import { openssl } from '../support/openssl.ts';
import {
  archiveLines,
  cloudTrailSampleLines,
  copyFolder,
  listObjects,
  loadCloudTrailSample,
  modifyEvent,
  readObject,
  removeFolder,
  TEST_LEDGER,
  tempFolder,
} from '../support/sealed-folder.ts';
import { sharedDataPath } from '../support/shared-data.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin', 'auditseal.mjs');
const WINDOW = { fromMs: Date.parse('2024-07-30T00:00:00Z'), toMs: Date.parse('2024-08-03T00:00:00Z') };
const FIRST = { startMs: Date.parse('2024-07-30T21:00:00Z'), seconds: 3600 };
const TAMPERED_ARCHIVE = 'archives/import/2024/08/01/20240801T120000Z-3600s/000001.jsonl';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; never throws for a non-zero exit. */
async function auditseal(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: REPO,
      encoding: 'utf8',
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs `main()` in this process, capturing what it writes. Not concurrency-safe: keep such tests serial. */
async function auditsealInProcess(...args: string[]): Promise<Run> {
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
    const code = await main(['node', 'auditseal', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const work = tempFolder('cli');
/** A FIFO in the work folder: nothing ever writes to it, so reading it would block forever. */
function fifo(name: string): string {
  const path = join(work, `fifo-${name}`);
  if (!existsSync(path)) mkfifoSync(path);
  return path;
}
const input = join(work, 'events.jsonl');
const privateKey = join(work, 'signing-key.pem');
const sealed = join(work, 'sealed');
const others: string[] = [];
let publicKey: string;
let signingPem: string;

beforeAll(async () => {
  const pair = generateKeyPairPem();
  signingPem = pair.privateKeyPem;
  writeFileSync(privateKey, pair.privateKeyPem);
  writeFileSync(join(work, 'other-public.pem'), generateKeyPairPem().publicKeyPem);
  writeFileSync(input, `${cloudTrailSampleLines(WINDOW).join('\n')}\n`);
  const run = await auditseal(
    'seal',
    '--in',
    input,
    '--out',
    sealed,
    '--key',
    privateKey,
    '--period',
    '1h',
    '--chunk-leaves',
    '16',
    '--json',
  );
  expect(run.code, run.stderr).toBe(0);
  publicKey = (JSON.parse(run.stdout) as { publicKey: string }).publicKey;
});

afterAll(() => {
  for (const dir of others) removeFolder(dir);
  removeFolder(work);
});

describe.concurrent('Command: auditseal --help', () => {
  describe.each([
    [
      'verify',
      ['--key', '--from', '--to', '--head', '--deep', '--json', 'Exit status: 0 valid, 1 findings, 2 usage'],
    ],
    ['head', ['--out', '--endpoint', '--local-file', '--json']],
    ['download', ['--from', '--to', '--out', '--endpoint', '--local-file', '--json']],
    ['seal', ['--in', '--out', '--key', '--period', '--ledger', '--skip-invalid', '--json']],
    ['verify-receipt', ['--key', '--event', '--json']],
  ])('when asking for help on %s', (command, options) => {
    it('exits 0 and documents every option', async () => {
      // Act
      const run = await auditseal(command, '--help');

      // Assess
      expect(run.code).toBe(0);
      for (const option of options) expect(run.stdout).toContain(option);
    });
  });
});

describe('Command: auditseal seal', () => {
  describe('when sealing the CloudTrail sample window with 1 h periods', () => {
    it('writes one signed digest per period, empty periods included, and the public key', () => {
      // Prepare
      const key = readFileSync(publicKey, 'utf8');

      // Act
      const statement = digestStatementSchema.parse(
        JSON.parse(readObject(sealed, digestObjectKey(TEST_LEDGER, FIRST, 'statement')).toString('utf8')),
      );

      // Assess
      expect(key).toContain('-----BEGIN PUBLIC KEY-----');
      expect(statement).toMatchObject({
        sequence: 0,
        periodStart: '2024-07-30T21:00:00Z',
        periodSeconds: 3600,
      });
      expect(loadCloudTrailSample(WINDOW)).toHaveLength(288);
    });
  });

  describe('when the input holds a line that cannot be imported', () => {
    it('exits 2 without --skip-invalid and seals the rest with it', async () => {
      // Prepare
      const lines = readFileSync(sharedDataPath('cloudtrail', 'strict_permissive.jsonl'), 'utf8').split('\n');
      const unsupported = lines.find((line) => {
        try {
          importLine(line);
          return false;
        } catch {
          return line.trim() !== '';
        }
      })!;
      const mixed = join(work, 'mixed.jsonl');
      writeFileSync(mixed, `${cloudTrailSampleLines(WINDOW).slice(0, 5).join('\n')}\n${unsupported}\n`);
      const out = join(work, 'mixed-out');

      // Act
      const strict = await auditsealInProcess('seal', '--in', mixed, '--out', out, '--key', privateKey);
      const lenient = await auditsealInProcess(
        'seal',
        '--in',
        mixed,
        '--out',
        out,
        '--key',
        privateKey,
        '--skip-invalid',
        '--json',
      );

      // Assess
      expect(strict.code).toBe(2);
      expect(strict.stderr).toContain('--skip-invalid');
      expect(lenient.code).toBe(0);
      expect(JSON.parse(lenient.stdout)).toMatchObject({ lines: 6, events: 5, rejected: [{ line: 6 }] });
    });
  });

  describe('when the input holds 600 generated CloudTrail records with the edge cases', () => {
    it('seals all 600 with each record text verbatim, and the folder verifies VALID with --deep', async () => {
      // Prepare: one hour of records holding big integers, exponents, -0, deep nesting, any Unicode.
      const hour = { fromMs: Date.parse('2026-11-22T21:00:00Z'), toMs: Date.parse('2026-11-22T22:00:00Z') };
      const texts = sampleRecords(600, hour).map(oneLine);
      const file = join(work, 'generated.jsonl');
      writeFileSync(file, `${texts.join('\n')}\n`);
      const out = join(work, 'generated-out');

      // Act
      const seal = await auditsealInProcess(
        'seal',
        '--in',
        file,
        '--out',
        out,
        '--key',
        privateKey,
        '--json',
      );
      const summary = JSON.parse(seal.stdout) as { events: number; rejected: unknown[]; publicKey: string };
      const verify = await auditsealInProcess('verify', out, '--key', summary.publicKey, '--json', '--deep');

      // Assess
      expect(seal.code, seal.stderr).toBe(0);
      expect(summary).toMatchObject({ events: 600, rejected: [] });
      expect(verify.code, verify.stdout).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ valid: true, findings: [], stats: { events: 600 } });
      const archived = listObjects(out, 'archives/')
        .filter((key) => /\/\d{6}\.jsonl$/.test(key))
        .flatMap((key) => archiveLines(out, key))
        .map((line) => (JSON.parse(line.toString('utf8')) as { cloudtrail: string }).cloudtrail);
      expect(archived.sort()).toEqual([...texts].sort());
    });
  });

  describe('when a line is not valid UTF-8', () => {
    it('rejects that line as INVALID_UTF8 instead of sealing a repaired record', async () => {
      // Prepare
      const [good, bad] = cloudTrailSampleLines(WINDOW) as [string, string];
      const file = join(work, 'bad-utf8.jsonl');
      const at = bad.indexOf('"eventName":"') + '"eventName":"'.length;
      // 0xC3 0x28 is not UTF-8: a lead byte followed by "(".
      writeFileSync(
        file,
        Buffer.concat([
          Buffer.from(`${good}\n${bad.slice(0, at)}`),
          Buffer.from([0xc3, 0x28]),
          Buffer.from(`${bad.slice(at)}\n`),
        ]),
      );

      // Act
      const run = await auditsealInProcess(
        'seal',
        '--in',
        file,
        '--out',
        join(work, 'bad-utf8-out'),
        '--key',
        privateKey,
        '--skip-invalid',
        '--json',
      );

      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        lines: 2,
        events: 1,
        rejected: [{ line: 2, code: 'INVALID_UTF8' }],
      });
    });
  });

  describe('when the period does not divide a day', () => {
    it('exits 2', async () => {
      // Act
      const run = await auditsealInProcess(
        'seal',
        '--in',
        input,
        '--out',
        join(work, 'bad-period'),
        '--key',
        privateKey,
        '--period',
        '7m',
      );

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('period');
    });
  });
});

describe.concurrent('Command: auditseal verify', () => {
  describe('when the sealed folder is untampered', () => {
    it('exits 0 and prints VALID', async () => {
      // Act
      const run = await auditseal('verify', sealed, '--key', publicKey);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('VALID');
      expect(run.stdout).not.toContain('INVALID');
      expect(run.stdout).toContain('61 digest(s), 288 event(s)');
    });
  });

  describe('when asked for JSON with --deep', () => {
    it('exits 0 and prints a report with valid: true', async () => {
      // Act
      const run = await auditseal('verify', sealed, '--key', publicKey, '--json', '--deep');

      // Assess
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as {
        valid: boolean;
        findings: unknown[];
        stats: { events: number };
      };
      expect(report).toMatchObject({ valid: true, findings: [], stats: { events: 288, digests: 61 } });
    });
  });

  describe('when an event was modified', () => {
    it('exits 1 and names the code, the object and the event', async () => {
      // Prepare
      const dir = copyFolder(sealed, 'cli-tampered');
      others.push(dir);
      const eventId = modifyEvent(dir, TAMPERED_ARCHIVE, 3);

      // Act
      const [text, json] = await Promise.all([
        auditseal('verify', dir, '--key', publicKey),
        auditseal('verify', dir, '--key', publicKey, '--json'),
      ]);

      // Assess
      expect(text.code).toBe(1);
      expect(text.stdout).toContain('INVALID: 1 finding(s)');
      expect(text.stdout).toContain(`EVENT_MODIFIED (1): ${FINDING_CODES.EVENT_MODIFIED}`);
      expect(text.stdout).toContain(`${TAMPERED_ARCHIVE}  event ${eventId}`);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        valid: false,
        findings: [{ code: 'EVENT_MODIFIED', object: TAMPERED_ARCHIVE, eventId }],
      });
    });
  });

  describe.each([
    ['no --key is given', () => ['verify', sealed], 'no trusted key'],
    [
      'the folder does not exist',
      () => ['verify', join(work, 'absent'), '--key', publicKey],
      'is not a folder',
    ],
    ['--from is not a time', () => ['verify', sealed, '--key', publicKey, '--from', 'yesterday'], '--from'],
  ])('when %s', (_, args, message) => {
    it('exits 2 and says why on stderr', async () => {
      // Act
      const run = await auditseal(...args());

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe('');
    });
  });
});

describe('Function: main (verify, in-process)', () => {
  describe('when the trusted key is another key', () => {
    it('exits 1 with KEY_UNKNOWN on every digest', async () => {
      // Act
      const run = await auditsealInProcess('verify', sealed, '--key', join(work, 'other-public.pem'));

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('KEY_UNKNOWN (61)');
    });
  });

  describe('when --to lies beyond the sealed periods', () => {
    it('exits 1 with PERIOD_MISSING', async () => {
      // Act
      const run = await auditsealInProcess(
        'verify',
        sealed,
        '--key',
        publicKey,
        '--to',
        '2024-08-02T12:00:00Z',
      );

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('PERIOD_MISSING (1)');
      expect(run.stdout).toContain('no digest for the 2 periods 2024-08-02T10:00:00Z … 2024-08-02T11:00:00Z');
    });
  });

  describe.each([
    [
      'the key file does not exist',
      () => ['verify', sealed, '--key', join(work, 'absent.pem')],
      'cannot read key file',
    ],
    ['the key file is a private key', () => ['verify', sealed, '--key', privateKey], 'bad key file'],
    [
      '--to is a day that does not exist',
      () => ['verify', sealed, '--key', publicKey, '--to', '2026-02-30'],
      '--to is not a valid time: 2026-02-30 (day 30 does not exist in 2026-02)',
    ],
    [
      '--from is a month that does not exist',
      () => ['verify', sealed, '--key', publicKey, '--from', '2026-13-01'],
      '--from is not a valid time: 2026-13-01 (month 13 does not exist)',
    ],
    [
      '--to is hour 24',
      () => ['verify', sealed, '--key', publicKey, '--to', '2026-01-01T24:00:00Z'],
      'no such time of day',
    ],
    [
      '--head names a file that does not exist',
      () => ['verify', sealed, '--key', publicKey, '--head', join(work, 'absent-head.json')],
      'cannot read --head',
    ],
    [
      '--head names a file that is not a head',
      () => ['verify', sealed, '--key', publicKey, '--head', publicKey],
      'is not JSON',
    ],
    [
      '--head names a file far too large for a head',
      () => ['verify', sealed, '--key', publicKey, '--head', input],
      'is larger than 16384 bytes',
    ],
    ['--key is a FIFO', () => ['verify', sealed, '--key', fifo('key.pem')], 'is not a regular file'],
    [
      '--head is a FIFO',
      () => ['verify', sealed, '--key', publicKey, '--head', fifo('head.json')],
      'is not a regular file',
    ],
    [
      '--from is after --to',
      () => ['verify', sealed, '--key', publicKey, '--from', '2024-08-02', '--to', '2024-08-01'],
      '--from must be before --to',
    ],
    [
      'an option is unknown',
      () => ['verify', sealed, '--key', publicKey, '--fast'],
      "unknown option '--fast'",
    ],
    [
      'the folder argument is missing',
      () => ['verify', '--key', publicKey],
      "missing required argument 'dir'",
    ],
  ])('when %s', (_, args, message) => {
    it('exits 2 and says why on stderr', async () => {
      // Act
      const run = await auditsealInProcess(...args());

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe('');
    });
  });
});

const batchEvents = () =>
  loadCloudTrailSample(WINDOW).filter((e) => e.receivedAt === '2024-07-31T12:36:51.000Z');

async function receiptFile(
  name: string,
  damage?: (signature: Buffer) => void,
  pick?: number,
): Promise<string> {
  const events = batchEvents();
  const batch = await signBatch(
    {
      ledger: TEST_LEDGER,
      batchId: 'cli-batch',
      leaves: events.map((e) => ({ eventId: e.id, receivedAt: e.receivedAt, leafHash: e.leafHash })),
    },
    new KeyFileSigner(signingPem),
  );
  const receipts = batch.receipts.map((r) => {
    if (!damage) return r;
    const signature = Buffer.from(r.signature, 'base64');
    damage(signature);
    return { ...r, signature: signature.toString('base64') };
  });
  const file = join(work, name);
  writeFileSync(file, JSON.stringify(pick === undefined ? receipts : receipts[pick]));
  return file;
}

function eventFile(name: string, index: number): string {
  const file = join(work, name);
  writeFileSync(file, batchEvents()[index]!.bytes);
  return file;
}

describe.concurrent('Command: auditseal verify-receipt', () => {
  describe('when the receipts are valid', () => {
    it('exits 0 and prints VALID per receipt', async () => {
      // Prepare
      const file = await receiptFile('receipts-valid.json');

      // Act
      const run = await auditseal('verify-receipt', file, '--key', publicKey);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout.trim().split('\n')).toHaveLength(6);
      expect(run.stdout).toMatch(/^VALID {3}ct:/m);
    });
  });

  describe('when a receipt signature is damaged', () => {
    it('exits 1 and prints the code', async () => {
      // Prepare
      const file = await receiptFile('receipts-tampered.json', (sig) => {
        sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x01;
      });

      // Act
      const run = await auditseal('verify-receipt', file, '--key', publicKey);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('RECEIPT_SIGNATURE_INVALID');
    });
  });

  describe('when the receipt file is not JSON', () => {
    it('exits 2', async () => {
      // Prepare
      const file = join(work, 'not-json.json');
      writeFileSync(file, '{"type":');

      // Act
      const run = await auditseal('verify-receipt', file, '--key', publicKey);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('cannot read receipt');
    });
  });
});

describe('Function: main (verify-receipt --event, in-process)', () => {
  describe('when --event gives the receipt event', () => {
    it('exits 0 and prints VALID', async () => {
      // Prepare
      const file = await receiptFile('receipt-1.json', undefined, 1);
      const event = eventFile('event-1.json', 1);

      // Act
      const run = await auditsealInProcess('verify-receipt', file, '--key', publicKey, '--event', event);

      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^VALID {3}${batchEvents()[1]!.id}:`, 'm'));
    });
  });

  describe('when --event gives another event of the same batch', () => {
    it('exits 1 with RECEIPT_EVENT_MISMATCH', async () => {
      // Prepare
      const file = await receiptFile('receipt-2.json', undefined, 1);
      const event = eventFile('event-2.json', 2);

      // Act
      const run = await auditsealInProcess(
        'verify-receipt',
        file,
        '--key',
        publicKey,
        '--event',
        event,
        '--json',
      );

      // Assess
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject([
        { ok: false, code: 'RECEIPT_EVENT_MISMATCH', eventId: batchEvents()[1]!.id },
      ]);
    });
  });

  describe('when --event is given with an array of receipts', () => {
    it('exits 2 and says why', async () => {
      // Prepare
      const file = await receiptFile('receipts-array.json');
      const event = eventFile('event-3.json', 0);

      // Act
      const run = await auditsealInProcess('verify-receipt', file, '--key', publicKey, '--event', event);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--event checks one receipt');
    });
  });
});

describe('Auditor check by hand: openssl', () => {
  describe('when a sealed statement and its signature are checked with openssl dgst', () => {
    it('prints Verified OK, and the statement digestSha256 is the SHA-256 of the digest file', () => {
      // Prepare
      const statementFile = join(sealed, digestObjectKey(TEST_LEDGER, FIRST, 'statement'));
      const signatureFile = join(sealed, digestObjectKey(TEST_LEDGER, FIRST, 'signature'));
      const digestFile = join(sealed, digestObjectKey(TEST_LEDGER, FIRST, 'digest'));

      // Act
      const verdict = openssl([
        'dgst',
        '-sha256',
        '-verify',
        publicKey,
        '-signature',
        signatureFile,
        statementFile,
      ]);
      const digestHash = openssl(['dgst', '-sha256', '-r', digestFile]).split(' ')[0];

      // Assess
      expect(verdict.trim()).toBe('Verified OK');
      const statement = digestStatementSchema.parse(JSON.parse(readFileSync(statementFile, 'utf8')));
      expect(statement.digestSha256).toBe(digestHash);
    });
  });

  describe('when the statement file was changed by one byte', () => {
    it('openssl refuses it', () => {
      // Prepare
      const dir = copyFolder(sealed, 'cli-openssl');
      others.push(dir);
      const statementFile = join(dir, digestObjectKey(TEST_LEDGER, FIRST, 'statement'));
      const signatureFile = join(dir, digestObjectKey(TEST_LEDGER, FIRST, 'signature'));
      const text = readFileSync(statementFile, 'utf8').replace('"sequence":0', '"sequence":1');
      writeFileSync(`${statementFile}.forged`, text);

      // Act
      const result = spawnSync(
        'openssl',
        ['dgst', '-sha256', '-verify', publicKey, '-signature', signatureFile, `${statementFile}.forged`],
        { encoding: 'utf8' },
      );

      // Assess
      expect(result.status).toBe(1);
      expect(result.stdout.trim()).toBe('Verification failure');
    });
  });
});
