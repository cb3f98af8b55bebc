/**
 * `Signer` backed by an AWS KMS asymmetric key (`ECC_NIST_P256`, `SIGN_VERIFY`).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 */

import type { GetPublicKeyCommandOutput, KMSClient } from '@aws-sdk/client-kms';
import { GetPublicKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import { KeyError, SigningError } from '../../shared/crypto/errors.ts';
import type { TrustedKey } from '../../shared/crypto/keys.ts';
import { publicKeyFromSpkiDer, verifyStatement } from '../../shared/crypto/keys.ts';
import { assertStatementSize } from '../../shared/crypto/statement-bounds.ts';
import type { Signer } from '../../shared/ports/signer.ts';

/** How to reach the key. The client is created once by the caller and shared. */
export interface KmsSignerOptions {
  readonly client: KMSClient;
  /** Key id, key ARN, alias name (`alias/…`) or alias ARN. */
  readonly keyId: string;
}

/**
 * Signs statements with KMS `Sign` (`MessageType: RAW`, `ECDSA_SHA_256`). The public key is fetched once,
 * checked, and cached. Each signature is verified against it before it is returned, so a re-pointed
 * alias or a rotated key can never produce a signature filed under the wrong key id.
 */
export class KmsSigner implements Signer {
  readonly #client: KMSClient;
  readonly #kmsKeyId: string;
  #publicKey: Promise<TrustedKey> | undefined;

  constructor(options: KmsSignerOptions) {
    if (typeof options.keyId !== 'string' || options.keyId.trim() === '') {
      throw new TypeError('KmsSigner needs a non-empty KMS keyId');
    }
    this.#client = options.client;
    this.#kmsKeyId = options.keyId;
  }

  async keyId(): Promise<string> {
    return (await this.#trustedKey()).keyId;
  }

  async publicKeyPem(): Promise<string> {
    return (await this.#trustedKey()).pem;
  }

  async sign(statement: Uint8Array): Promise<Uint8Array> {
    assertStatementSize(statement);
    const publicKey = await this.#trustedKey();
    let signature: Uint8Array | undefined;
    try {
      const output = await this.#client.send(
        new SignCommand({
          KeyId: this.#kmsKeyId,
          Message: statement,
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      signature = output.Signature;
    } catch (cause) {
      throw new SigningError(
        'SIGNING_FAILED',
        `KMS Sign with key ${this.#kmsKeyId} failed: ${errorName(cause)}`,
        {
          cause,
        },
      );
    }
    if (signature === undefined || signature.length === 0) {
      throw new SigningError('SIGNING_FAILED', `KMS Sign with key ${this.#kmsKeyId} returned no signature`);
    }
    if (!verifyStatement(publicKey.key, statement, signature)) {
      // The alias was re-pointed (a rotation): forget the key, so the caller's retry builds its statement
      // under the new key id. This signature is never returned.
      this.#publicKey = undefined;
      throw new SigningError(
        'SIGNATURE_MISMATCH',
        `KMS key ${this.#kmsKeyId} returned a signature that does not verify under key ${publicKey.keyId}` +
          ' (was the alias re-pointed?)',
      );
    }
    return signature;
  }

  /**
   * Forgets the cached public key, so the next call asks KMS again: a caller about to make decisions
   * that depend on the key (the sealer's trusted keys) calls it first, and sees a re-pointed alias.
   */
  refresh(): void {
    this.#publicKey = undefined;
  }

  /** One GetPublicKey per signer; a failed fetch is forgotten so that the next call retries. */
  #trustedKey(): Promise<TrustedKey> {
    if (this.#publicKey === undefined) {
      this.#publicKey = this.#fetchPublicKey();
      this.#publicKey.catch(() => {
        this.#publicKey = undefined;
      });
    }
    return this.#publicKey;
  }

  async #fetchPublicKey(): Promise<TrustedKey> {
    let output: GetPublicKeyCommandOutput;
    try {
      output = await this.#client.send(new GetPublicKeyCommand({ KeyId: this.#kmsKeyId }));
    } catch (cause) {
      throw new SigningError(
        'PUBLIC_KEY_UNAVAILABLE',
        `KMS GetPublicKey for key ${this.#kmsKeyId} failed: ${errorName(cause)}`,
        { cause },
      );
    }
    assertSigningKeyShape(this.#kmsKeyId, output);
    if (output.PublicKey === undefined || output.PublicKey.length === 0) {
      throw new SigningError(
        'PUBLIC_KEY_UNAVAILABLE',
        `KMS GetPublicKey for key ${this.#kmsKeyId} returned no key`,
      );
    }
    try {
      return publicKeyFromSpkiDer(output.PublicKey);
    } catch (cause) {
      if (!(cause instanceof KeyError)) throw cause;
      throw new SigningError(
        'UNSUITABLE_SIGNING_KEY',
        `KMS key ${this.#kmsKeyId} has an unusable public key: ${cause.message}`,
        { cause },
      );
    }
  }
}

function assertSigningKeyShape(kmsKeyId: string, output: GetPublicKeyCommandOutput): void {
  // moto 5.2.1 answers with the deprecated CustomerMasterKeySpec only; AWS sends both.
  const spec = output.KeySpec ?? output.CustomerMasterKeySpec;
  if (spec !== 'ECC_NIST_P256') {
    throw new SigningError(
      'UNSUITABLE_SIGNING_KEY',
      `KMS key ${kmsKeyId} is ${spec ?? 'of unknown spec'}, not ECC_NIST_P256`,
    );
  }
  if (output.KeyUsage !== 'SIGN_VERIFY') {
    throw new SigningError(
      'UNSUITABLE_SIGNING_KEY',
      `KMS key ${kmsKeyId} has usage ${output.KeyUsage ?? 'unknown'}, not SIGN_VERIFY`,
    );
  }
  if (!output.SigningAlgorithms?.includes('ECDSA_SHA_256')) {
    throw new SigningError('UNSUITABLE_SIGNING_KEY', `KMS key ${kmsKeyId} does not support ECDSA_SHA_256`);
  }
}

/** The SDK error's name (`AccessDeniedException`, `ThrottlingException`…): never its request payload. */
function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown error';
}
