/**
 * Public key files found inside the folder being verified. They are never trusted: whoever could change
 * the folder could change them too, so trust comes only from keys the auditor passes (`--key`). The
 * verifier names them so that an auditor is not misled into thinking they were used.
 */
import { loadPublicKeys } from '../crypto/keys.ts';
import type { ObjectReader } from './object-reader.ts';

/** A PEM file is a few hundred bytes; a key file larger than this is not read. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** One key file found in the folder. */
export interface FolderKeyFile {
  /** Path below the folder, e.g. `keys/<key id>.pem`. */
  readonly object: string;
  /** Key ids of the public keys it holds; empty when it is not a readable public key PEM. */
  readonly keyIds: string[];
  /** True when every key it holds is also among the trusted keys (passed from outside the folder). */
  readonly alsoTrusted: boolean;
}

/**
 * Reads the given `.pem` objects (as listed by the caller) and names the keys they hold.
 * @example await folderKeyFiles(reader, ['keys/ab12….pem'], trustedKeys)
 */
export async function folderKeyFiles(
  reader: ObjectReader,
  objects: readonly string[],
  trusted: { has(keyId: string): boolean },
): Promise<FolderKeyFile[]> {
  const found: FolderKeyFile[] = [];
  for (const object of [...objects].sort()) {
    let keyIds: string[] = [];
    try {
      const bytes = await reader.read(object, MAX_KEY_FILE_BYTES + 1);
      if (bytes && bytes.length <= MAX_KEY_FILE_BYTES)
        keyIds = loadPublicKeys(bytes.toString('utf8')).map((k) => k.keyId);
    } catch {
      // Not a regular file, or not a public key: still named, with no key id.
      keyIds = [];
    }
    found.push({ object, keyIds, alsoTrusted: keyIds.length > 0 && keyIds.every((id) => trusted.has(id)) });
  }
  return found;
}
