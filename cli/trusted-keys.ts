import { loadPublicKeys, type TrustedKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import { MAX_KEY_FILE_BYTES } from '../shared/verify/folder-keys.ts';
import { UsageError } from './errors.ts';
import { readUserFile } from './user-files.ts';

/** Loads the `--key` PEM files into a trusted key set; exits 2 (UsageError) on a missing or bad file. */
export async function loadTrustedKeys(paths: readonly string[]): Promise<TrustedKeySet> {
  if (paths.length === 0) {
    throw new UsageError(
      'no trusted key: pass --key PEM (trust must come from outside the folder being verified)',
    );
  }
  const keys: TrustedKey[] = [];
  for (const path of paths) {
    const text = (await readUserFile(path, MAX_KEY_FILE_BYTES, 'key file')).toString('utf8');
    try {
      keys.push(...loadPublicKeys(text));
    } catch (error) {
      throw new UsageError(`bad key file: ${path}: ${(error as Error).message}`);
    }
  }
  return new TrustedKeySet(keys);
}
