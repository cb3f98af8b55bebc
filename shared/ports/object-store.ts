/**
 * Write-once object storage (the digest bucket, a local folder, or memory). Every write is conditional
 * (`If-None-Match: *` on S3); a write that finds identical bytes already there counts as success, the way
 * Tessera treats it, so a re-run after a crash converges instead of failing.
 */

/** What a conditional write did. */
export type PutOutcome = 'created' | 'unchanged';

export interface ObjectStore {
  /**
   * Writes `body` under `key` only if no object exists there. Throws ObjectConflictError if different bytes
   * exist. The caller may reuse `body` once the returned promise settles (the sealer does, chunk after
   * chunk): a store that keeps the bytes keeps a copy.
   */
  putIfAbsent(key: string, body: Uint8Array, contentType: string): Promise<PutOutcome>;
  /** Reads an object, or undefined if there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
}

/** A write-once key already holds different bytes. Carries the existing bytes as evidence. */
export class ObjectConflictError extends Error {
  override readonly name = 'ObjectConflictError';
  constructor(
    readonly key: string,
    readonly existing: Uint8Array,
  ) {
    super(`object ${key} already exists with different content`);
  }
}
