import { readFile } from 'node:fs/promises';
import { TrustedKeySet } from '../shared/crypto/keys.ts';
import { UsageError } from './errors.ts';

/** Loads the `--key` PEM files into a trusted key set; exits 2 (UsageError) on a missing or bad file. */
export async function loadTrustedKeys(paths: readonly string[]): Promise<TrustedKeySet> {
  if (paths.length === 0) {
    throw new UsageError(
      'no trusted key: pass --key PEM (trust must come from outside the folder being verified)',
    );
  }
  for (const path of paths) {
    try {
      await readFile(path);
    } catch {
      throw new UsageError(`cannot read key file ${path}`);
    }
  }
  try {
    return await TrustedKeySet.fromPemFiles([...paths]);
  } catch (error) {
    throw new UsageError(`bad key file: ${(error as Error).message}`);
  }
}
