import { ObjectConflictError, type ObjectStore, type PutOutcome } from '../ports/object-store.ts';

/** In-memory ObjectStore with the same put-only semantics as the S3 adapter. */
export class InMemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();

  async putIfAbsent(key: string, body: Uint8Array): Promise<PutOutcome> {
    const existing = this.objects.get(key);
    if (existing === undefined) {
      this.objects.set(key, Uint8Array.from(body));
      return 'created';
    }
    if (Buffer.from(existing).equals(body)) return 'unchanged';
    throw new ObjectConflictError(key, existing);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const existing = this.objects.get(key);
    return existing === undefined ? undefined : Uint8Array.from(existing);
  }

  /** Bytes [start, end) of an object (fewer at its end), as an S3 ranged GET returns them. */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    const existing = this.objects.get(key);
    return existing === undefined ? undefined : Uint8Array.from(existing.subarray(start, end));
  }
}
