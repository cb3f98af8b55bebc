/**
 * KmsSigner against moto's KMS: a real HTTP round trip through the SDK, signatures checked by our
 * verifier and by the openssl CLI.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListResourceTagsCommand,
  NotFoundException,
  SignCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigningKey } from '../../adapters/kms/create-signing-key.ts';
import { KmsSigner } from '../../adapters/kms/kms-signer.ts';
import { SigningError } from '../../shared/crypto/errors.ts';
import { loadPublicKey, publicKeyFromSpkiDer, verifyStatement } from '../../shared/crypto/keys.ts';
import { MAX_STATEMENT_BYTES } from '../../shared/ports/signer.ts';
import type { MotoServer } from '../support/moto.ts';
import { startMoto } from '../support/moto.ts';
import { opensslKeyId, opensslVerify } from '../support/openssl.ts';

const statement = new TextEncoder().encode(
  '{"kind":"batch","period":"2025-01-01T00:00:00Z","root":"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}',
);

let moto: MotoServer;
let client: KMSClient;
let created: { kmsKeyId: string; arn: string };

beforeAll(async () => {
  moto = await startMoto();
  client = new KMSClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  created = await createSigningKey(client, {
    description: 'auditseal integration test key',
    tags: { project: 'auditseal' },
  });
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

describe('Function: createSigningKey (moto)', () => {
  it('creates a tagged ECC_NIST_P256 SIGN_VERIFY key', async () => {
    // Act
    const publicKey = await client.send(new GetPublicKeyCommand({ KeyId: created.arn }));
    const tags = await client.send(new ListResourceTagsCommand({ KeyId: created.kmsKeyId }));

    // Assess
    expect(created.arn).toContain(created.kmsKeyId);
    expect(publicKey.CustomerMasterKeySpec).toBe('ECC_NIST_P256');
    expect(publicKey.KeyUsage).toBe('SIGN_VERIFY');
    expect(tags.Tags).toEqual([{ TagKey: 'project', TagValue: 'auditseal' }]);
  });
});

describe('Class: KmsSigner (moto)', () => {
  describe('Method: sign', () => {
    it('returns a DER signature that verifyStatement and openssl both accept', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: created.kmsKeyId });
      const pem = await signer.publicKeyPem();

      // Act
      const signature = await signer.sign(statement);

      // Assess
      expect(signature[0]).toBe(0x30);
      expect(signature[1]).toBe(signature.length - 2);
      expect(verifyStatement(loadPublicKey(pem).key, statement, signature)).toBe(true);
      const verdict = opensslVerify(pem, statement, signature);
      expect(verdict.stdout.trim()).toBe('Verified OK');
      expect(verdict.status).toBe(0);
    });

    it('produces signatures that all verify, over statements up to MAX_STATEMENT_BYTES', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: created.arn });
      const trusted = loadPublicKey(await signer.publicKeyPem());
      const statements = [1, 2, 100, 1000, MAX_STATEMENT_BYTES].map((length, index) =>
        new Uint8Array(length).map((_, i) => (i * 31 + index) & 0xff),
      );

      // Act
      const signatures = await Promise.all(statements.map((bytes) => signer.sign(bytes)));

      // Assess
      signatures.forEach((signature, index) => {
        expect(verifyStatement(trusted.key, statements[index]!, signature)).toBe(true);
      });
      expect(opensslVerify(trusted.pem, statements[4]!, signatures[4]!).status).toBe(0);
    });

    describe('when one byte of the statement changes after signing', () => {
      it('makes openssl and verifyStatement reject the signature', async () => {
        // Prepare
        const signer = new KmsSigner({ client, keyId: created.kmsKeyId });
        const pem = await signer.publicKeyPem();
        const signature = await signer.sign(statement);
        const tampered = Uint8Array.from(statement);
        tampered[0]! ^= 0x01;

        // Act
        const verdict = opensslVerify(pem, tampered, signature);

        // Assess
        expect(verdict.status).toBe(1);
        expect(verdict.stdout.trim()).toBe('Verification failure');
        expect(verifyStatement(loadPublicKey(pem).key, tampered, signature)).toBe(false);
      });
    });

    describe('when the key is addressed by alias', () => {
      it('signs under the same key id as by key id', async () => {
        // Prepare
        const aliasName = 'alias/auditseal-integration';
        await client.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: created.kmsKeyId }));
        const byAlias = new KmsSigner({ client, keyId: aliasName });
        const byId = new KmsSigner({ client, keyId: created.kmsKeyId });

        // Act
        const signature = await byAlias.sign(statement);

        // Assess
        expect(await byAlias.keyId()).toBe(await byId.keyId());
        expect(opensslVerify(await byId.publicKeyPem(), statement, signature).status).toBe(0);
      });
    });

    describe('when the statement is larger than MAX_STATEMENT_BYTES', () => {
      it('rejects it locally: moto would sign it although AWS refuses', async () => {
        // Prepare
        const signer = new KmsSigner({ client, keyId: created.kmsKeyId });
        const oversize = new Uint8Array(MAX_STATEMENT_BYTES + 1).fill(1);

        // Act
        const error = await signer.sign(oversize).catch((caught: unknown) => caught);
        const motoDirect = await client.send(
          new SignCommand({
            KeyId: created.kmsKeyId,
            Message: oversize,
            MessageType: 'RAW',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        );

        // Assess
        expect(error).toMatchObject({ code: 'STATEMENT_TOO_LARGE' });
        expect(motoDirect.Signature?.length).toBeGreaterThan(0);
      });
    });
  });

  describe('Method: keyId', () => {
    it('is the fingerprint openssl computes from the GetPublicKey PEM', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: created.arn });
      const raw = await client.send(new GetPublicKeyCommand({ KeyId: created.arn }));

      // Act
      const keyId = await signer.keyId();

      // Assess
      expect(keyId).toBe(createHash('sha256').update(raw.PublicKey!).digest('hex'));
      expect(keyId).toBe(opensslKeyId(await signer.publicKeyPem()));
    });

    describe('when the key is RSA', () => {
      it('rejects with UNSUITABLE_SIGNING_KEY', async () => {
        // Prepare
        const rsa = await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
        const signer = new KmsSigner({ client, keyId: rsa.KeyMetadata!.KeyId! });

        // Act & Assess
        await expect(signer.keyId()).rejects.toMatchObject({ code: 'UNSUITABLE_SIGNING_KEY' });
      });
    });

    describe('when the key is symmetric', () => {
      it('rejects with UNSUITABLE_SIGNING_KEY (moto returns an RSA public key where AWS would refuse)', async () => {
        // Prepare
        const symmetric = await client.send(new CreateKeyCommand({ Description: 'symmetric' }));
        const signer = new KmsSigner({ client, keyId: symmetric.KeyMetadata!.KeyId! });

        // Act & Assess
        await expect(signer.keyId()).rejects.toMatchObject({ code: 'UNSUITABLE_SIGNING_KEY' });
      });
    });

    describe('when the key does not exist', () => {
      it('rejects with PUBLIC_KEY_UNAVAILABLE caused by NotFoundException', async () => {
        // Prepare
        const signer = new KmsSigner({ client, keyId: 'alias/does-not-exist' });

        // Act
        const error = await signer.keyId().catch((caught: unknown) => caught);

        // Assess
        expect(error).toBeInstanceOf(SigningError);
        expect(error).toMatchObject({ code: 'PUBLIC_KEY_UNAVAILABLE' });
        expect((error as SigningError).cause).toBeInstanceOf(NotFoundException);
      });
    });
  });
});

describe('Quirks of moto KMS that shaped the design', () => {
  it('GetPublicKey sends only the deprecated CustomerMasterKeySpec and a bare key id', async () => {
    // Act
    const output = await client.send(new GetPublicKeyCommand({ KeyId: created.arn }));

    // Assess
    expect(output.KeySpec).toBeUndefined();
    expect(output.CustomerMasterKeySpec).toBe('ECC_NIST_P256');
    expect(output.KeyId).toBe(created.kmsKeyId);
  });

  it('MessageType DIGEST hashes the digest again, so only RAW agrees with AWS', async () => {
    // Prepare
    const digest = createHash('sha256').update(statement).digest();
    const output = await client.send(new GetPublicKeyCommand({ KeyId: created.arn }));
    const { key } = publicKeyFromSpkiDer(output.PublicKey!);

    // Act
    const { Signature } = await client.send(
      new SignCommand({
        KeyId: created.arn,
        Message: digest,
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );

    // Assess
    // On AWS this signature would verify over `statement`; moto signed SHA-256(digest) instead.
    expect(verifyStatement(key, statement, Signature!)).toBe(false);
    expect(verifyStatement(key, digest, Signature!)).toBe(true);
  });
});

describe('Function: startMoto', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'auditseal-moto-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** Alive and not a zombie waiting for its reaper. */
  function isAlive(pid: number): boolean {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  }

  async function until(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    return condition();
  }

  it('stops the server it started', async () => {
    // Prepare
    const server = await startMoto();

    // Act
    await server.stop();
    await server.stop();

    // Assess
    expect(await until(() => !isAlive(server.pid))).toBe(true);
    await expect(fetch(`${server.endpoint}/moto-api/data.json`)).rejects.toThrow();
  });

  describe('when the command does not exist', () => {
    it('rejects at once with an install hint', async () => {
      // Act
      const result = startMoto({ command: join(scratch, 'no-such-moto-server') });

      // Assess
      await expect(result).rejects.toThrow(
        /not found on PATH; install it with `pip install 'moto\[server\]'`/,
      );
    });
  });

  describe('when the command exits early', () => {
    it('rejects with its exit code and output', async () => {
      // Prepare
      const script = join(scratch, 'crashing-moto');
      writeFileSync(script, '#!/bin/sh\necho "ImportError: no module named moto" >&2\nexit 3\n');
      chmodSync(script, 0o755);

      // Act
      const result = startMoto({ command: script });

      // Assess
      await expect(result).rejects.toThrow(/exited before answering \(code 3[\s\S]*ImportError/);
    });
  });

  describe('when the command never answers', () => {
    it('times out with a clear error and kills the whole process group', async () => {
      // Prepare
      const script = join(scratch, 'silent-moto');
      const grandchildPidFile = join(scratch, 'grandchild.pid');
      writeFileSync(script, `#!/bin/sh\nsleep 300 &\necho $! > ${grandchildPidFile}\nwait\n`);
      chmodSync(script, 0o755);

      // Act
      const result = startMoto({ command: script, timeoutMs: 1000 });

      // Assess
      await expect(result).rejects.toThrow(/did not answer on http:\/\/127\.0\.0\.1:\d+ within 1000 ms/);
      const grandchild = Number(readFileSync(grandchildPidFile, 'utf8').trim());
      expect(grandchild).toBeGreaterThan(0);
      expect(await until(() => !isAlive(grandchild))).toBe(true);
    });
  });
});
