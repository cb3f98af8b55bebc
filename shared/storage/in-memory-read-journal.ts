/** In-memory `ReadJournal`: keeps what it was given; `failWith` plays a queue that refuses messages. */
import type { ReadJournal, ReadRecord } from '../query/read-record.ts';

export class InMemoryReadJournal implements ReadJournal {
  readonly records: ReadRecord[] = [];
  failWith: Error | undefined;

  async record(read: ReadRecord): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.records.push(structuredClone(read));
  }
}
