import type { KeyObject } from 'node:crypto';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { GetPublicKeyCommandOutput, SignCommandInput } from '@aws-sdk/client-kms';
import {
  CreateKeyCommand,
  DisabledException,
  GetPublicKeyCommand,
  KMSClient,
  NotFoundException,
  SignCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSigningKey } from '../../../adapters/kms/create-signing-key.ts';
import { KmsSigner } from '../../../adapters/kms/kms-signer.ts';
import { KeyError, SigningError } from '../../../shared/crypto/errors.ts';
import { loadPublicKey, verifyStatement } from '../../../shared/crypto/keys.ts';
import { MAX_STATEMENT_BYTES } from '../../../shared/ports/signer.ts';
import { opensslKeyId, opensslVerify } from '../../support/openssl.ts';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ALIAS = 'alias/auditseal-signing';
const SECRET_MARKER = 'user-email=alice@example.com';

const kmsMock = mockClient(KMSClient);
// A leaked call would hit a closed local port, never AWS.
const client = new KMSClient({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const statement = new TextEncoder().encode(`{"kind":"batch","note":"${SECRET_MARKER}"}`);

/** A local P-256 key standing in for the KMS key: GetPublicKey returns its SPKI, Sign uses its private half. */
function kmsKey(namedCurve = 'prime256v1'): { privateKey: KeyObject; spkiDer: Uint8Array; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return {
    privateKey,
    spkiDer: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function publicKeyResponse(spkiDer: Uint8Array, overrides: Partial<GetPublicKeyCommandOutput> = {}) {
  return {
    KeyId: KEY_ARN,
    PublicKey: spkiDer,
    KeySpec: 'ECC_NIST_P256' as const,
    CustomerMasterKeySpec: 'ECC_NIST_P256' as const,
    KeyUsage: 'SIGN_VERIFY' as const,
    SigningAlgorithms: ['ECDSA_SHA_256' as const],
    ...overrides,
  };
}

function signsWith(privateKey: KeyObject) {
  return (input: SignCommandInput) => ({
    KeyId: KEY_ARN,
    SigningAlgorithm: 'ECDSA_SHA_256' as const,
    Signature: new Uint8Array(sign('sha256', input.Message!, { key: privateKey, dsaEncoding: 'der' })),
  });
}

async function rejection(promise: Promise<unknown>): Promise<SigningError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SigningError);
  return error as SigningError;
}

let key: ReturnType<typeof kmsKey>;

beforeEach(() => {
  kmsMock.reset();
  key = kmsKey();
  kmsMock.on(GetPublicKeyCommand).resolves(publicKeyResponse(key.spkiDer));
  kmsMock.on(SignCommand).callsFake(signsWith(key.privateKey));
});

describe('Class: KmsSigner', () => {
  describe('Method: sign', () => {
    it('sends exactly one RAW ECDSA_SHA_256 Sign for the statement bytes', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: ALIAS });

      // Act
      await signer.sign(statement);

      // Assess
      const calls = kmsMock.commandCalls(SignCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0]!.args[0].input;
      expect(input).toStrictEqual({
        KeyId: ALIAS,
        Message: statement,
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256',
      });
      expect(Buffer.from(input.Message!).equals(statement)).toBe(true);
    });

    it('returns the DER signature from KMS, which openssl verifies', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: ALIAS });

      // Act
      const signature = await signer.sign(statement);

      // Assess
      expect(verifyStatement(loadPublicKey(key.pem).key, statement, signature)).toBe(true);
      const verdict = opensslVerify(await signer.publicKeyPem(), statement, signature);
      expect(verdict.stdout.trim()).toBe('Verified OK');
      expect(verdict.status).toBe(0);
    });

    it('calls GetPublicKey once across several sign, keyId and publicKeyPem calls', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: ALIAS });

      // Act
      await Promise.all([signer.sign(statement), signer.sign(statement), signer.keyId()]);
      await signer.sign(statement);
      await signer.publicKeyPem();

      // Assess
      expect(kmsMock.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
      expect(kmsMock.commandCalls(GetPublicKeyCommand)[0]!.args[0].input).toStrictEqual({ KeyId: ALIAS });
      expect(kmsMock.commandCalls(SignCommand)).toHaveLength(3);
    });

    it('accepts a statement of exactly MAX_STATEMENT_BYTES', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: ALIAS });

      // Act
      const signature = await signer.sign(new Uint8Array(MAX_STATEMENT_BYTES).fill(1));

      // Assess
      expect(signature.length).toBeGreaterThan(0);
    });

    describe('when the statement is larger than MAX_STATEMENT_BYTES', () => {
      it('rejects it with STATEMENT_TOO_LARGE before any KMS call', async () => {
        // Prepare
        const signer = new KmsSigner({ client, keyId: ALIAS });

        // Act
        const error = await rejection(signer.sign(new Uint8Array(MAX_STATEMENT_BYTES + 1)));

        // Assess
        expect(error.code).toBe('STATEMENT_TOO_LARGE');
        expect(kmsMock.calls()).toHaveLength(0);
      });
    });

    describe('when the statement is empty', () => {
      it('rejects it with EMPTY_STATEMENT before any KMS call', async () => {
        // Prepare
        const signer = new KmsSigner({ client, keyId: ALIAS });

        // Act
        const error = await rejection(signer.sign(new Uint8Array(0)));

        // Assess
        expect(error.code).toBe('EMPTY_STATEMENT');
        expect(kmsMock.calls()).toHaveLength(0);
      });
    });

    describe('when KMS Sign fails', () => {
      it('wraps the SDK error as SIGNING_FAILED with cause, without the statement', async () => {
        // Prepare
        const sdkError = new DisabledException({ message: `${KEY_ARN} is disabled.`, $metadata: {} });
        kmsMock.on(SignCommand).rejects(sdkError);
        const signer = new KmsSigner({ client, keyId: ALIAS });

        // Act
        const error = await rejection(signer.sign(statement));

        // Assess
        expect(error.code).toBe('SIGNING_FAILED');
        expect(error.cause).toBe(sdkError);
        expect(error.message).toContain('DisabledException');
        expect(error.message).toContain(ALIAS);
        expect(error.message).not.toContain(SECRET_MARKER);
      });
    });

    describe('when KMS Sign returns no signature', () => {
      it('rejects with SIGNING_FAILED', async () => {
        // Prepare
        kmsMock.on(SignCommand).resolves({ KeyId: KEY_ARN, SigningAlgorithm: 'ECDSA_SHA_256' });
        const signer = new KmsSigner({ client, keyId: ALIAS });

        // Act
        const error = await rejection(signer.sign(statement));

        // Assess
        expect(error.code).toBe('SIGNING_FAILED');
      });
    });

    describe('when KMS signs with a key other than the one whose public key was fetched', () => {
      it('rejects with SIGNATURE_MISMATCH instead of returning a signature filed under the wrong key id', async () => {
        // Prepare
        kmsMock.on(SignCommand).callsFake(signsWith(kmsKey().privateKey));
        const signer = new KmsSigner({ client, keyId: ALIAS });

        // Act
        const error = await rejection(signer.sign(statement));

        // Assess
        expect(error.code).toBe('SIGNATURE_MISMATCH');
        expect(error.message).not.toContain(SECRET_MARKER);
      });
    });

    describe('when the alias was re-pointed to a new key after the public key was fetched', () => {
      it('fails that call, forgets the old key, and signs under the new key on the retry', async () => {
        // Prepare
        const next = kmsKey();
        kmsMock
          .on(GetPublicKeyCommand)
          .resolvesOnce(publicKeyResponse(key.spkiDer))
          .resolves(publicKeyResponse(next.spkiDer));
        kmsMock.on(SignCommand).callsFake(signsWith(next.privateKey));
        const signer = new KmsSigner({ client, keyId: ALIAS });
        const oldKeyId = await signer.keyId();

        // Act
        const error = await rejection(signer.sign(statement));
        const newKeyId = await signer.keyId();
        const signature = await signer.sign(statement);

        // Assess
        expect(error.code).toBe('SIGNATURE_MISMATCH');
        expect(newKeyId).not.toBe(oldKeyId);
        expect(newKeyId).toBe(loadPublicKey(next.pem).keyId);
        expect(verifyStatement(loadPublicKey(next.pem).key, statement, signature)).toBe(true);
      });
    });

    describe('when refresh is called after the alias was re-pointed', () => {
      it('asks KMS again and names the new key', async () => {
        // Prepare
        const next = kmsKey();
        kmsMock
          .on(GetPublicKeyCommand)
          .resolvesOnce(publicKeyResponse(key.spkiDer))
          .resolves(publicKeyResponse(next.spkiDer));
        const signer = new KmsSigner({ client, keyId: ALIAS });
        const before = await signer.keyId();

        // Act
        signer.refresh();
        const after = await signer.keyId();

        // Assess
        expect(before).toBe(loadPublicKey(key.pem).keyId);
        expect(after).toBe(loadPublicKey(next.pem).keyId);
        expect(kmsMock.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
      });
    });

    describe('when KMS returns a raw r||s signature instead of DER', () => {
      it('rejects with SIGNATURE_MISMATCH', async () => {
        // Prepare
        kmsMock.on(SignCommand).callsFake((input: SignCommandInput) => ({
          Signature: new Uint8Array(
            sign('sha256', input.Message!, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }),
          ),
        }));
        const signer = new KmsSigner({ client, keyId: ALIAS });

        // Act
        const error = await rejection(signer.sign(statement));

        // Assess
        expect(error.code).toBe('SIGNATURE_MISMATCH');
      });
    });

    describe('when GetPublicKey fails', () => {
      it('rejects with PUBLIC_KEY_UNAVAILABLE, sends no Sign, and retries on the next call', async () => {
        // Prepare
        const sdkError = new NotFoundException({ message: 'Alias not found', $metadata: {} });
        kmsMock.on(GetPublicKeyCommand).rejectsOnce(sdkError).resolves(publicKeyResponse(key.spkiDer));
        const signer = new KmsSigner({ client, keyId: ALIAS });

        // Act
        const error = await rejection(signer.sign(statement));
        const signature = await signer.sign(statement);

        // Assess
        expect(error.code).toBe('PUBLIC_KEY_UNAVAILABLE');
        expect(error.cause).toBe(sdkError);
        expect(kmsMock.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
        expect(kmsMock.commandCalls(SignCommand)).toHaveLength(1);
        expect(verifyStatement(loadPublicKey(key.pem).key, statement, signature)).toBe(true);
      });
    });
  });

  describe('Method: keyId', () => {
    it('is the SHA-256 of the SPKI DER from GetPublicKey, as openssl computes it', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: KEY_ARN });

      // Act
      const keyId = await signer.keyId();

      // Assess
      expect(keyId).toBe(createHash('sha256').update(key.spkiDer).digest('hex'));
      expect(keyId).toBe(opensslKeyId(key.pem));
    });

    describe('when KMS reports only the deprecated CustomerMasterKeySpec, as moto does', () => {
      it('accepts the key', async () => {
        // Prepare
        kmsMock.on(GetPublicKeyCommand).resolves(publicKeyResponse(key.spkiDer, { KeySpec: undefined }));
        const signer = new KmsSigner({ client, keyId: KEY_ARN });

        // Act
        const keyId = await signer.keyId();

        // Assess
        expect(keyId).toBe(opensslKeyId(key.pem));
      });
    });

    describe.each([
      [
        'the key spec is ECC_NIST_P384',
        { KeySpec: 'ECC_NIST_P384', CustomerMasterKeySpec: 'ECC_NIST_P384' },
        'ECC_NIST_P384',
      ],
      ['the key spec is RSA_2048', { KeySpec: 'RSA_2048', CustomerMasterKeySpec: 'RSA_2048' }, 'RSA_2048'],
      ['the key spec is missing', { KeySpec: undefined, CustomerMasterKeySpec: undefined }, 'unknown spec'],
      ['the key usage is ENCRYPT_DECRYPT', { KeyUsage: 'ENCRYPT_DECRYPT' }, 'ENCRYPT_DECRYPT'],
      ['ECDSA_SHA_256 is not offered', { SigningAlgorithms: ['ECDSA_SHA_384'] }, 'ECDSA_SHA_256'],
    ] as const)('when %s', (_, overrides, mentioned) => {
      it('rejects with UNSUITABLE_SIGNING_KEY and never signs', async () => {
        // Prepare
        kmsMock
          .on(GetPublicKeyCommand)
          .resolves(publicKeyResponse(key.spkiDer, overrides as Partial<GetPublicKeyCommandOutput>));
        const signer = new KmsSigner({ client, keyId: KEY_ARN });

        // Act
        const error = await rejection(signer.sign(statement));

        // Assess
        expect(error.code).toBe('UNSUITABLE_SIGNING_KEY');
        expect(error.message).toContain(mentioned);
        expect(kmsMock.commandCalls(SignCommand)).toHaveLength(0);
      });
    });

    describe('when the metadata says P-256 but the public key is on P-384', () => {
      it('rejects with UNSUITABLE_SIGNING_KEY caused by WRONG_CURVE', async () => {
        // Prepare
        kmsMock.on(GetPublicKeyCommand).resolves(publicKeyResponse(kmsKey('secp384r1').spkiDer));
        const signer = new KmsSigner({ client, keyId: KEY_ARN });

        // Act
        const error = await rejection(signer.keyId());

        // Assess
        expect(error.code).toBe('UNSUITABLE_SIGNING_KEY');
        expect(error.cause).toBeInstanceOf(KeyError);
        expect((error.cause as KeyError).code).toBe('WRONG_CURVE');
      });
    });

    describe('when GetPublicKey returns no key bytes', () => {
      it('rejects with PUBLIC_KEY_UNAVAILABLE', async () => {
        // Prepare
        kmsMock.on(GetPublicKeyCommand).resolves(publicKeyResponse(key.spkiDer, { PublicKey: undefined }));
        const signer = new KmsSigner({ client, keyId: KEY_ARN });

        // Act
        const error = await rejection(signer.keyId());

        // Assess
        expect(error.code).toBe('PUBLIC_KEY_UNAVAILABLE');
      });
    });
  });

  describe('Method: publicKeyPem', () => {
    it('is the SPKI PEM of the KMS key', async () => {
      // Prepare
      const signer = new KmsSigner({ client, keyId: KEY_ARN });

      // Act
      const pem = await signer.publicKeyPem();

      // Assess
      expect(pem).toBe(key.pem);
    });
  });

  describe('Method: constructor', () => {
    describe('when the key id is empty', () => {
      it('throws a TypeError before any call', () => {
        // Act & Assess
        expect(() => new KmsSigner({ client, keyId: ' ' })).toThrow(TypeError);
        expect(kmsMock.calls()).toHaveLength(0);
      });
    });
  });
});

describe('Function: createSigningKey', () => {
  it('creates an ECC_NIST_P256 SIGN_VERIFY key with the given description and tags', async () => {
    // Prepare
    kmsMock.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'key-1', Arn: KEY_ARN } });

    // Act
    const created = await createSigningKey(client, {
      description: 'auditseal local signing key',
      tags: { project: 'auditseal', stack: 'local' },
    });

    // Assess
    expect(created).toStrictEqual({ kmsKeyId: 'key-1', arn: KEY_ARN });
    const calls = kmsMock.commandCalls(CreateKeyCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toStrictEqual({
      Description: 'auditseal local signing key',
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Tags: [
        { TagKey: 'project', TagValue: 'auditseal' },
        { TagKey: 'stack', TagValue: 'local' },
      ],
    });
  });

  describe('when no tags are given', () => {
    it('sends no Tags field', async () => {
      // Prepare
      kmsMock.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'key-1', Arn: KEY_ARN } });

      // Act
      await createSigningKey(client, { description: 'd' });

      // Assess
      expect(kmsMock.commandCalls(CreateKeyCommand)[0]!.args[0].input).toStrictEqual({
        Description: 'd',
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
      });
    });
  });

  describe('when KMS CreateKey fails', () => {
    it('wraps the error as KEY_CREATION_FAILED with cause', async () => {
      // Prepare
      const sdkError = new DisabledException({ message: 'nope', $metadata: {} });
      kmsMock.on(CreateKeyCommand).rejects(sdkError);

      // Act
      const error = await rejection(createSigningKey(client, { description: 'd' }));

      // Assess
      expect(error.code).toBe('KEY_CREATION_FAILED');
      expect(error.cause).toBe(sdkError);
    });
  });

  describe('when KMS answers without key metadata', () => {
    it('rejects with KEY_CREATION_FAILED', async () => {
      // Prepare
      kmsMock.on(CreateKeyCommand).resolves({});

      // Act
      const error = await rejection(createSigningKey(client, { description: 'd' }));

      // Assess
      expect(error.code).toBe('KEY_CREATION_FAILED');
    });
  });
});
