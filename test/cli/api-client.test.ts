import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../cli/api-client.ts';
import { UsageError } from '../../cli/errors.ts';
import { AuditsealConfigError } from '../../client/errors.ts';
import { removeFolder } from '../support/local-stack.ts';

const work = mkdtempSync(join(tmpdir(), 'auditseal-target-'));
const localFile = join(work, 'local.json');
const roles = {
  writer: { accessKeyId: 'AKIAWRITER0000000000', secretAccessKey: 'w'.repeat(40) },
  reader: { accessKeyId: 'AKIAREADER0000000000', secretAccessKey: 'r'.repeat(40) },
  auditor: { accessKeyId: 'AKIAAUDITOR000000000', secretAccessKey: 'a'.repeat(40) },
};
writeFileSync(localFile, JSON.stringify({ endpoint: 'http://127.0.0.1:4010', region: 'us-east-1', roles }));
const DEPLOYED = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod';

afterAll(() => removeFolder(work));

describe('Function: resolveTarget', () => {
  describe('when the local stack file exists and no endpoint is named', () => {
    it('signs with the role’s local keys, even with AWS credentials in the environment', async () => {
      // Act
      const target = await resolveTarget({
        role: 'writer',
        localFile,
        env: { AWS_ACCESS_KEY_ID: 'AKIAFROMSHELL', AWS_SECRET_ACCESS_KEY: 'x' },
      });

      // Assess
      expect(target).toEqual({
        endpoint: 'http://127.0.0.1:4010',
        region: 'us-east-1',
        credentials: roles.writer,
      });
    });

    it('also uses them when the named endpoint is the local stack’s', async () => {
      // Act
      const target = await resolveTarget({ role: 'auditor', localFile, endpoint: 'http://127.0.0.1:4010/' });

      // Assess
      expect(target.credentials).toEqual(roles.auditor);
    });
  });

  describe('when another endpoint is named', () => {
    it('uses the standard AWS credential chain and the region of the host name', async () => {
      // Act
      const target = await resolveTarget({
        role: 'writer',
        localFile,
        env: { AUDITSEAL_ENDPOINT: DEPLOYED },
      });

      // Assess
      expect(target.endpoint).toBe(DEPLOYED);
      expect(target.region).toBe('eu-west-1');
      expect(typeof target.credentials).toBe('function');
    });

    it('reads credentials from the environment through the chain', async () => {
      // Prepare
      const saved = { ...process.env };
      process.env['AWS_ACCESS_KEY_ID'] = 'AKIAFROMCHAIN0000000';
      process.env['AWS_SECRET_ACCESS_KEY'] = 'secret-from-env';
      try {
        const target = await resolveTarget({
          role: 'writer',
          endpoint: DEPLOYED,
          localFile: join(work, 'none'),
        });

        // Act
        const credentials = await (target.credentials as () => Promise<{ accessKeyId: string }>)();

        // Assess
        expect(credentials.accessKeyId).toBe('AKIAFROMCHAIN0000000');
      } finally {
        process.env = saved;
      }
    });
  });

  describe('when the region cannot be known', () => {
    it('throws a UsageError asking for --region', async () => {
      // Act
      const resolving = resolveTarget({ role: 'writer', endpoint: 'https://audit.example.com', env: {} });

      // Assess
      await expect(resolving).rejects.toThrow(UsageError);
      await expect(resolving).rejects.toThrow('--region');
    });
  });

  describe('when there is neither a local stack nor an endpoint', () => {
    it('throws a UsageError naming both ways', async () => {
      // Act
      const resolving = resolveTarget({ role: 'writer', localFile: join(work, 'none'), env: {} });

      // Assess
      await expect(resolving).rejects.toThrow('start the local stack (npm start');
      await expect(resolving).rejects.toThrow('--endpoint');
    });
  });

  describe('when the local stack file is not one', () => {
    it('throws a UsageError', async () => {
      // Prepare
      const bad = join(work, 'bad.json');
      writeFileSync(bad, '{"endpoint": 1}');

      // Act
      const resolving = resolveTarget({ role: 'writer', localFile: bad, env: {} });

      // Assess
      await expect(resolving).rejects.toThrow(UsageError);
      await expect(resolving).rejects.toThrow('not a local stack description');
    });
  });

  describe('when the chain finds no credentials', () => {
    it('says so with an AuditsealConfigError', async () => {
      // Prepare
      const saved = { ...process.env };
      for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
      process.env['AWS_CONFIG_FILE'] = join(work, 'no-config');
      process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(work, 'no-credentials');
      process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
      try {
        const target = await resolveTarget({
          role: 'writer',
          endpoint: DEPLOYED,
          localFile: join(work, 'none'),
        });

        // Act
        const resolving = (target.credentials as () => Promise<unknown>)();

        // Assess
        await expect(resolving).rejects.toThrow(AuditsealConfigError);
        await expect(resolving).rejects.toThrow('no AWS credentials');
      } finally {
        process.env = saved;
      }
    });
  });
});
