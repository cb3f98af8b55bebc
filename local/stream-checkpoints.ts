/**
 * The local stream poller's checkpoints: per stream and shard, the sequence number of the last record the
 * handler is done with, and whether a closed shard is finished. Kept in one JSON file, replaced atomically
 * (write to a temporary file, then rename), so that a restart resumes where the last run stopped.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

/** Where a shard stands. */
export interface ShardCheckpoint {
  /** The last record delivered successfully (or sent to the on-failure destination). */
  readonly sequenceNumber?: string;
  /** A closed shard whose every record is done. */
  readonly finished?: boolean;
}

const fileSchema = z.object({
  version: z.literal(1),
  streams: z.record(
    z.string(),
    z.object({
      shards: z.record(
        z.string(),
        z.object({
          sequenceNumber: z
            .string()
            .regex(/^\d{1,40}$/)
            .optional(),
          finished: z.boolean().optional(),
        }),
      ),
    }),
  ),
});

type CheckpointFile = z.infer<typeof fileSchema>;

/** The checkpoints of one stream, backed by a file. Writes are serialized. */
export class CheckpointStore {
  readonly #path: string;
  readonly #streamArn: string;
  #file: CheckpointFile;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, streamArn: string, file: CheckpointFile) {
    this.#path = path;
    this.#streamArn = streamArn;
    this.#file = file;
  }

  /**
   * Opens (or starts) the checkpoint file. A file that does not parse is an error, never a silent restart
   * from the beginning.
   */
  static async open(path: string, streamArn: string): Promise<CheckpointStore> {
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text === undefined) return new CheckpointStore(path, streamArn, { version: 1, streams: {} });
    const parsed = fileSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new Error(
        `the stream checkpoint file ${path} is corrupt; delete it to redeliver the stream from its start`,
      );
    }
    return new CheckpointStore(path, streamArn, parsed.data);
  }

  /** The checkpoint of a shard, if any. */
  get(shardId: string): ShardCheckpoint | undefined {
    const shards = this.#file.streams[this.#streamArn]?.shards;
    return shards !== undefined && Object.hasOwn(shards, shardId) ? shards[shardId] : undefined;
  }

  /** Records a shard's new position and persists it. */
  async set(shardId: string, checkpoint: ShardCheckpoint): Promise<void> {
    const stream = this.#file.streams[this.#streamArn] ?? { shards: {} };
    Object.defineProperty(stream.shards, shardId, {
      value: { ...this.get(shardId), ...checkpoint },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    this.#file.streams[this.#streamArn] = stream;
    const snapshot = `${JSON.stringify(this.#file, null, 2)}\n`;
    const write = this.#writing.then(() => this.#write(snapshot));
    this.#writing = write.catch(() => {});
    await write;
  }

  async #write(snapshot: string): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true });
    const temporary = `${this.#path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, snapshot);
    await rename(temporary, this.#path);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
