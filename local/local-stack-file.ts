/**
 * `.auditseal/local.json`: what `npm start` is running, for clients (the CLI, tests, curl users) and for the
 * next start, which reads it to resume the same ledger. It holds the local role secrets: mode 0600.
 */

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { LEDGER_ID_PATTERN } from '../shared/ledger/object-keys.ts';

const roleCredentials = z.strictObject({
  accessKeyId: z.string().regex(/^AKIA[A-Z0-9]{16}$/),
  secretAccessKey: z.string().regex(/^[A-Za-z0-9/+]{40}$/),
});

const localStackFileSchema = z.object({
  /** The API, e.g. `http://127.0.0.1:4010`. */
  endpoint: z.url(),
  region: z.string().min(1),
  accountId: z.string().regex(/^\d{12}$/),
  ledger: z.string().regex(LEDGER_ID_PATTERN),
  /** When this ledger was started (RFC 3339). */
  ledgerCreatedAt: z.string(),
  tableName: z.string().min(3),
  bucket: z.string().min(3),
  kmsKeyId: z.string().min(1),
  kmsKeyArn: z.string().min(1),
  /** Fingerprint of the signing key (SHA-256 of its SubjectPublicKeyInfo DER, hex). */
  signingKeyId: z.string().regex(/^[0-9a-f]{64}$/),
  /** The signing key's public key, also saved as `keys/<signingKeyId>.pem` beside this file. */
  publicKeyPem: z.string().startsWith('-----BEGIN PUBLIC KEY-----'),
  periodSeconds: z.number().int().positive(),
  roles: z.strictObject({ writer: roleCredentials, reader: roleCredentials, auditor: roleCredentials }),
  dynamodbEndpoint: z.url(),
  s3Endpoint: z.url(),
  kmsEndpoint: z.url(),
  /** The process running the stack, while it runs. */
  pid: z.number().int().positive(),
  startedAt: z.string(),
});

/** The content of `.auditseal/local.json`. */
export type LocalStackFile = z.infer<typeof localStackFileSchema>;

/** Role credentials as stored in `roles`. */
export type RoleCredentials = LocalStackFile['roles']['writer'];

/**
 * Reads the file; undefined if it does not exist or does not parse (an old or hand-edited file is not
 * trusted for a resume).
 */
export async function readLocalStackFile(path: string): Promise<LocalStackFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = localStackFileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the file atomically (temporary file, then rename), readable by its owner only. */
export async function writeLocalStackFile(path: string, content: LocalStackFile): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(localStackFileSchema.parse(content), null, 2)}\n`);
}

/** Writes `text` to `path` atomically with mode 0600. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
