/**
 * Paths into the shared test data that sits beside the repository (`../shared/data`), as in CI.
 *
 * Example: `readSharedJson('merkle/rfc6962_vectors.json', vectorsSchema)`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';

/** Absolute path of the shared data folder. */
export const SHARED_DATA_DIR = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** Absolute path of a file under the shared data folder, given by its path segments. */
export function sharedDataPath(...segments: string[]): string {
  return join(SHARED_DATA_DIR, ...segments);
}

/** Raw bytes of a shared data file. */
export function readSharedBytes(relativePath: string): Buffer {
  return readFileSync(sharedDataPath(relativePath));
}

/** UTF-8 text of a shared data file. */
export function readSharedText(relativePath: string): string {
  return readFileSync(sharedDataPath(relativePath), 'utf8');
}

/** A shared JSON file, parsed and checked against a schema so tests never trust its shape blindly. */
export function readSharedJson<T extends z.ZodType>(relativePath: string, schema: T): z.output<T> {
  return schema.parse(JSON.parse(readSharedText(relativePath)));
}
