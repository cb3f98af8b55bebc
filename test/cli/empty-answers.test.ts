/**
 * Commands that can come back with nothing say why, and what to do next; `auditseal local credentials`
 * hands curl a role's keys without the banner printing them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { renderSearch } from '../../cli/commands/read-events.ts';
import { main } from '../../cli/main.ts';
import { removeFolder, tempFolder } from '../support/sealed-folder.ts';

const work = tempFolder('empty-answers');
afterAll(() => removeFolder(work));

/** Runs `main()` in this process, capturing what it writes. */
async function auditseal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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

const roles = {
  writer: { accessKeyId: 'AKIATESTWRITER000001', secretAccessKey: 'w'.repeat(40) },
  reader: { accessKeyId: 'AKIATESTREADER000001', secretAccessKey: 'r'.repeat(40) },
  auditor: { accessKeyId: 'AKIATESTAUDITOR00001', secretAccessKey: 'a'.repeat(40) },
};

describe('Command: auditseal local credentials', () => {
  describe('when the local stack file exists', () => {
    it('prints the role as KEY:SECRET, the form curl --user takes', async () => {
      // Prepare
      const localFile = join(work, 'local.json');
      writeFileSync(
        localFile,
        JSON.stringify({ endpoint: 'http://127.0.0.1:4010', region: 'us-east-1', roles }),
      );

      // Act
      const writer = await auditseal('local', 'credentials', 'writer', '--local-file', localFile);
      const reader = await auditseal('local', 'credentials', 'reader', '--local-file', localFile, '--json');

      // Assess
      expect(writer).toEqual({ code: 0, stdout: `AKIATESTWRITER000001:${'w'.repeat(40)}\n`, stderr: '' });
      expect(JSON.parse(reader.stdout)).toEqual({
        role: 'reader',
        endpoint: 'http://127.0.0.1:4010',
        region: 'us-east-1',
        accessKeyId: 'AKIATESTREADER000001',
        secretAccessKey: 'r'.repeat(40),
      });
    });
  });

  describe('when the local stack is not running', () => {
    it('exits 2 and says to run npm start, printing nothing on stdout', async () => {
      // Act
      const run = await auditseal('local', 'credentials', 'writer', '--local-file', join(work, 'none.json'));

      // Assess
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('start the local stack with `npm start`');
    });
  });

  describe('when the role does not exist', () => {
    it('exits 2 and lists the roles', async () => {
      // Act
      const run = await auditseal('local', 'credentials', 'admin');

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Allowed choices are writer, reader, auditor');
    });
  });
});

describe('Command: auditseal verify', () => {
  describe('when the folder holds no digest', () => {
    it('exits 1 and says how to fill it', async () => {
      // Prepare
      const empty = join(work, 'empty');
      mkdirSync(empty);

      // Act
      const run = await auditseal('verify', empty, '--key', 'test/fixtures/keys/example-public.pem');

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`Nothing to verify: ${empty} holds no digests/`);
      expect(run.stdout).toContain(`npx auditseal download --wait --from <time> --to <time> --out ${empty}`);
    });
  });
});

describe('Method: renderSearch', () => {
  describe('when nothing matches', () => {
    it('names the filters and says what the time filters mean', () => {
      // Act
      const filtered = renderSearch({ events: [] }, { actor: 'alice', limit: '10' });
      const none = renderSearch({ events: [] });

      // Assess
      expect(filtered).toMatch(/^No events match --actor "alice"\./);
      expect(filtered).toContain('--from and --to are the times the service received the events');
      expect(none).toMatch(/^No events: nothing is stored on this ledger yet\./);
    });
  });
});
