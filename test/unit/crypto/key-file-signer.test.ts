import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyError, SigningError } from '../../../shared/crypto/errors.ts';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { generateKeyPairPem, loadPublicKey, verifyStatement } from '../../../shared/crypto/keys.ts';
import { MAX_STATEMENT_BYTES } from '../../../shared/ports/signer.ts';
import { openssl, opensslKeyId, opensslVerify } from '../../support/openssl.ts';

const statement = new TextEncoder().encode(
  '{"batch":"b-0001","keyId":"…","root":"5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"}',
);

const scratch = mkdtempSync(join(tmpdir(), 'auditseal-signer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('Class: KeyFileSigner', () => {
  describe('Method: sign', () => {
    it('returns a DER signature that verifies with verifyStatement', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();
      const trusted = loadPublicKey(await signer.publicKeyPem());

      // Act
      const signature = await signer.sign(statement);

      // Assess
      expect(signature).toBeInstanceOf(Uint8Array);
      expect(Buffer.isBuffer(signature)).toBe(false);
      expect(signature[0]).toBe(0x30);
      expect(signature[1]).toBe(signature.length - 2);
      expect(verifyStatement(trusted.key, statement, signature)).toBe(true);
    });

    it('returns a signature that `openssl dgst -sha256 -verify` accepts', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();

      // Act
      const signature = await signer.sign(statement);

      // Assess
      const verdict = opensslVerify(await signer.publicKeyPem(), statement, signature);
      expect(verdict.stdout.trim()).toBe('Verified OK');
      expect(verdict.status).toBe(0);
    });

    it('signs a statement of exactly MAX_STATEMENT_BYTES', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();
      const largest = new Uint8Array(MAX_STATEMENT_BYTES).fill(0x7b);

      // Act
      const signature = await signer.sign(largest);

      // Assess
      expect(opensslVerify(await signer.publicKeyPem(), largest, signature).status).toBe(0);
    });

    describe('when one byte of the statement changes after signing', () => {
      it('makes openssl report a verification failure', async () => {
        // Prepare
        const signer = KeyFileSigner.generate();
        const signature = await signer.sign(statement);
        const tampered = Uint8Array.from(statement);
        tampered[10]! ^= 0x20;

        // Act
        const verdict = opensslVerify(await signer.publicKeyPem(), tampered, signature);

        // Assess
        expect(verdict.status).toBe(1);
        expect(verdict.stdout.trim()).toBe('Verification failure');
      });
    });

    describe('when one byte of the signature changes', () => {
      it('makes openssl report a failure', async () => {
        // Prepare
        const signer = KeyFileSigner.generate();
        const signature = await signer.sign(statement);
        signature[signature.length - 3]! ^= 0x01;

        // Act
        const verdict = opensslVerify(await signer.publicKeyPem(), statement, signature);

        // Assess
        expect(verdict.status).not.toBe(0);
        expect(verdict.stdout).not.toContain('Verified OK');
      });
    });

    describe('when the statement is larger than MAX_STATEMENT_BYTES', () => {
      it('rejects it with STATEMENT_TOO_LARGE', async () => {
        // Prepare
        const signer = KeyFileSigner.generate();

        // Act
        const result = signer.sign(new Uint8Array(MAX_STATEMENT_BYTES + 1));

        // Assess
        await expect(result).rejects.toBeInstanceOf(SigningError);
        await expect(result).rejects.toMatchObject({ code: 'STATEMENT_TOO_LARGE' });
      });
    });

    describe('when the statement is empty', () => {
      it('rejects it with EMPTY_STATEMENT, as KMS would', async () => {
        // Prepare
        const signer = KeyFileSigner.generate();

        // Act & Assess
        await expect(signer.sign(new Uint8Array(0))).rejects.toMatchObject({ code: 'EMPTY_STATEMENT' });
      });
    });
  });

  describe('Method: keyId', () => {
    it('is the key id openssl computes from the public key', async () => {
      // Prepare
      const { privateKeyPem } = generateKeyPairPem();
      const signer = new KeyFileSigner(privateKeyPem);
      const publicPemFromOpenssl = openssl(['pkey', '-pubout'], privateKeyPem);

      // Act
      const keyId = await signer.keyId();

      // Assess
      expect(keyId).toBe(opensslKeyId(publicPemFromOpenssl));
      expect(await signer.publicKeyPem()).toBe(publicPemFromOpenssl);
    });
  });

  describe('Method: generate', () => {
    it('creates a new key each time', async () => {
      // Act
      const [first, second] = [KeyFileSigner.generate(), KeyFileSigner.generate()];

      // Assess
      expect(await first.keyId()).not.toBe(await second.keyId());
    });
  });

  describe('Method: fromFile', () => {
    it('loads a SEC1 key written by openssl', async () => {
      // Prepare
      const path = join(scratch, 'sec1.pem');
      const sec1 = openssl(['ecparam', '-name', 'prime256v1', '-genkey']);
      writeFileSync(path, sec1);

      // Act
      const signer = await KeyFileSigner.fromFile(path);

      // Assess
      expect(await signer.keyId()).toBe(opensslKeyId(openssl(['ec', '-pubout'], sec1)));
      expect(opensslVerify(await signer.publicKeyPem(), statement, await signer.sign(statement)).status).toBe(
        0,
      );
    });

    describe('when the file does not exist', () => {
      it('rejects with KEY_FILE_UNREADABLE naming the file', async () => {
        // Prepare
        const path = join(scratch, 'absent.pem');

        // Act
        const result = KeyFileSigner.fromFile(path);

        // Assess
        await expect(result).rejects.toBeInstanceOf(KeyError);
        await expect(result).rejects.toMatchObject({ code: 'KEY_FILE_UNREADABLE' });
        await expect(result).rejects.toThrow(path);
      });
    });

    describe('when the file holds an RSA key', () => {
      it('rejects with WRONG_KEY_TYPE naming the file but not the key', async () => {
        // Prepare
        const path = join(scratch, 'rsa.pem');
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        writeFileSync(path, pem);

        // Act
        const error = await KeyFileSigner.fromFile(path).catch((caught: unknown) => caught);

        // Assess
        expect(error).toMatchObject({ code: 'WRONG_KEY_TYPE' });
        expect((error as Error).message).toContain(path);
        expect((error as Error).message).not.toContain(pem.split('\n')[1]);
      });
    });

    describe('when the file holds a public key', () => {
      it('rejects with NOT_A_PRIVATE_KEY', async () => {
        // Prepare
        const path = join(scratch, 'public.pem');
        writeFileSync(path, generateKeyPairPem().publicKeyPem);

        // Act & Assess
        await expect(KeyFileSigner.fromFile(path)).rejects.toMatchObject({ code: 'NOT_A_PRIVATE_KEY' });
      });
    });
  });
});
