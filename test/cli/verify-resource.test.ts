/**
 * `auditseal verify DIR --resource ID` (docs/PROFILES.md, "Verifying the versions in a folder"), run as the
 * built command: a folder whose profile versions were ingested and sealed by the real ingest core and
 * sealer (test/support/profile-ledger.ts), then the same folder with one version edited in its archive.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { archiveObjectKey } from '../../shared/ledger/object-keys.ts';
import { profileVersionEventId } from '../../shared/profiles/ledger-event.ts';
import {
  BUCKET,
  PROFILE_GENESIS,
  PROFILE_LEDGER,
  sealVersions,
  twoResourceHistory,
} from '../support/profile-ledger.ts';
import {
  copyFolder,
  insertEvent,
  makeEvent,
  modifyEvent,
  removeFolder,
  tempFolder,
  trustedKeysOf,
} from '../support/sealed-folder.ts';

const BIN = fileURLToPath(new URL('../../bin/auditseal.mjs', import.meta.url));
const CHUNK = archiveObjectKey(PROFILE_LEDGER, PROFILE_GENESIS, 0, 'events');

async function auditseal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
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

const work = tempFolder('cli-resource');
const sealed = join(work, 'sealed');
const publicKey = join(work, 'public.pem');
const tampered: string[] = [];

beforeAll(async () => {
  const signer = KeyFileSigner.generate();
  writeFileSync(publicKey, await signer.publicKeyPem());
  const { bucket, group } = await twoResourceHistory();
  const all = [...bucket, ...group].sort((a, b) => (a.recordedAt < b.recordedAt ? -1 : 1));
  await sealVersions(sealed, signer, await trustedKeysOf(signer), all);
});

afterAll(() => {
  for (const dir of tampered) removeFolder(dir);
  removeFolder(work);
});

describe.concurrent('Command: auditseal verify --resource', () => {
  describe('when the versions are sealed and intact', () => {
    it('exits 0 and prints the verified timeline with what changed', async () => {
      // Act
      const run = await auditseal('verify', sealed, '--key', publicKey, '--resource', BUCKET);

      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`resource ${BUCKET}`);
      expect(run.stdout).toContain('5 version(s), head version 5');
      expect(run.stdout).toContain('chain VERIFIED');
      expect(run.stdout).toMatch(/version 2 {2}verified {2}api/);
      expect(run.stdout).toContain('add /tags/team');
      expect(run.stdout).toContain('replace /tombstone');
      expect(run.stdout).toContain('VALID');
    });

    it('prints the same timeline as JSON', async () => {
      // Act
      const run = await auditseal('verify', sealed, '--key', publicKey, '--resource', BUCKET, '--json');

      // Assess
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report.profiles).toEqual({ versions: 5, resources: 1 });
      expect(report.resource).toMatchObject({ resourceId: BUCKET, versions: 5, verified: true, findings: 0 });
      expect(report.resource.timeline.map((v: { n: number; eventId: string }) => [v.n, v.eventId])).toEqual(
        [1, 2, 3, 4, 5].map((n) => [n, profileVersionEventId(BUCKET, n)]),
      );
    });
  });

  describe('when a version of the resource was edited in its archive', () => {
    it('exits 1, names the version, and says the chain is not verified', async () => {
      // Prepare
      const dir = copyFolder(sealed, 'cli-resource-tampered');
      tampered.push(dir);
      modifyEvent(dir, CHUNK, 2, (event) => {
        (event['profileVersion'] as { profile: { tags: Record<string, string> } }).profile.tags['team'] = 'x';
      });

      // Act
      const run = await auditseal('verify', dir, '--key', publicKey, '--resource', BUCKET);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('chain NOT verified (1 finding(s))');
      expect(run.stdout).toMatch(/version 2 {2}NOT SEALED/);
      expect(run.stdout).toContain('PROFILE_VERSION_MODIFIED (1)');
      expect(run.stdout).toContain(`event ${profileVersionEventId(BUCKET, 2)}`);
      expect(run.stdout).toContain('EVENT_MODIFIED (1)');
    });
  });

  describe('when an event naming the resource is inserted into an archive', () => {
    it('lists it as NOT VERIFIED, with why, in the text and the JSON report', async () => {
      // Prepare: a canonical event that names the bucket, which no digest commits to.
      const dir = copyFolder(sealed, 'cli-resource-forged');
      tampered.push(dir);
      const forged = makeEvent('forged-evt', new Date(PROFILE_GENESIS.startMs + 1000).toISOString(), {
        resource: { id: BUCKET, type: 'AWS::S3::Bucket' },
      });
      insertEvent(dir, CHUNK, 0, forged.bytes);

      // Act
      const [text, json, pooled] = await Promise.all([
        auditseal('verify', dir, '--key', publicKey, '--resource', BUCKET),
        auditseal('verify', dir, '--key', publicKey, '--resource', BUCKET, '--json'),
        auditseal('verify', dir, '--key', publicKey, '--resource', BUCKET, '--json', '--jobs', '2'),
      ]);

      // Assess
      expect(text.code).toBe(1);
      expect(text.stdout).toContain('1 event(s) name it, 0 verified');
      expect(text.stdout).toContain(`NOT VERIFIED forged-evt in ${CHUNK} #0: no trusted digest commits`);
      const events = JSON.parse(json.stdout).resource.events;
      expect(events).toMatchObject({ found: 1, verified: 0 });
      expect(pooled.stdout).toBe(json.stdout);
      expect(events.listed).toEqual([
        expect.objectContaining({ eventId: 'forged-evt', object: CHUNK, eventIndex: 0, verified: false }),
      ]);
    }, 90_000);
  });

  describe('when no event names the resource', () => {
    it('says so', async () => {
      // Act
      const run = await auditseal('verify', sealed, '--key', publicKey, '--resource', BUCKET, '--json');

      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).resource.events).toEqual({ found: 0, verified: 0, listed: [] });
    });
  });

  describe('when the resource has no version in the folder', () => {
    it('exits 0 and says so', async () => {
      // Act
      const run = await auditseal('verify', sealed, '--key', publicKey, '--resource', 'arn:aws:s3:::absent');

      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('no profile version of this resource in the verified range');
    });
  });

  describe.each([
    ['--resource is empty', ''],
    ['--resource ends with a space', 'arn:aws:s3:::b '],
    ['--resource holds a control character', 'arn:aws:s3:::b\u0007'],
    ['--resource is longer than a resource id', 'x'.repeat(2049)],
  ])('when %s', (_, id) => {
    it('exits 2 and says why on stderr', async () => {
      // Act
      const run = await auditseal('verify', sealed, '--key', publicKey, '--resource', id);

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--resource');
      expect(run.stdout).toBe('');
    });
  });
});
