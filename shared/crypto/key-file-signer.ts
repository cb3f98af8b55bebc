/**
 * A `Signer` over a local EC P-256 private key: for `auditseal seal --key`, tests and in-memory stacks.
 * It keeps the KMS signer's semantics: same statement bounds, same DER signature format.
 */
import { sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Signer } from '../ports/signer.ts';
import { KeyError, SigningError } from './errors.ts';
import type { SigningKey } from './keys.ts';
import { generateKeyPairPem, loadPrivateKey } from './keys.ts';
import { assertStatementSize } from './statement-bounds.ts';

/** Signs with a PKCS#8 or SEC1 P-256 private key held in memory. */
export class KeyFileSigner implements Signer {
  readonly #key: SigningKey;

  /** @param privateKeyPem a `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1) PEM on curve P-256. */
  constructor(privateKeyPem: string) {
    this.#key = loadPrivateKey(privateKeyPem);
  }

  /** Reads the private key PEM at `path`. Errors name the file, never its content. */
  static async fromFile(path: string): Promise<KeyFileSigner> {
    let pem: string;
    try {
      pem = await readFile(path, 'utf8');
    } catch (cause) {
      throw new KeyError('KEY_FILE_UNREADABLE', `cannot read key file ${path}`, { cause });
    }
    try {
      return new KeyFileSigner(pem);
    } catch (error) {
      if (error instanceof KeyError) {
        throw new KeyError(error.code, `${path}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  /** A signer over a freshly generated key that lives only in this process. */
  static generate(): KeyFileSigner {
    return new KeyFileSigner(generateKeyPairPem().privateKeyPem);
  }

  async keyId(): Promise<string> {
    return this.#key.keyId;
  }

  async publicKeyPem(): Promise<string> {
    return this.#key.publicKeyPem;
  }

  async sign(statement: Uint8Array): Promise<Uint8Array> {
    assertStatementSize(statement);
    let signature: Buffer;
    try {
      signature = sign('sha256', statement, { key: this.#key.privateKey, dsaEncoding: 'der' });
    } catch (cause) {
      throw new SigningError('SIGNING_FAILED', `local key ${this.#key.keyId} failed to sign`, { cause });
    }
    return new Uint8Array(signature);
  }
}
