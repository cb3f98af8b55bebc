/**
 * `auditseal download --from T --to T --out DIR`: fetches the digests of a time range and every object
 * they name into the verifiable folder layout (DIR/digests/…, DIR/archives/…), using the auditor role.
 * Objects come from short-lived presigned links; an object already in DIR is kept only if identical.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { type ApiTarget, clientFor, resolveTarget } from '../api-client.ts';
import { UsageError } from '../errors.ts';
import { ProgressBar } from '../progress.ts';

const listSchema = z.object({
  digests: z.array(z.object({ id: z.string(), periodStart: z.string() })),
  nextToken: z.string().optional(),
});
const describeSchema = z.object({
  id: z.string(),
  objects: z.array(z.object({ key: z.string(), url: z.url() })),
});
const keysSchema = z.object({
  keys: z.array(z.object({ keyId: z.string().regex(/^[0-9a-f]{64}$/), publicKeyPem: z.string() })),
});
const SAFE_KEY = /^(digests|archives)\/[a-z0-9][a-z0-9-]{0,62}\/[0-9A-Za-z./-]+$/;

export interface DownloadOptions {
  readonly fromMs: number;
  readonly toMs: number;
  readonly out: string;
  readonly endpoint?: string;
  readonly localFile?: string;
  readonly json: boolean;
}

export interface DownloadSummary {
  readonly out: string;
  readonly digests: number;
  readonly objects: number;
  readonly bytes: number;
  readonly unchanged: number;
  readonly keys: string[];
}

async function writeObject(root: string, key: string, bytes: Buffer): Promise<'written' | 'unchanged'> {
  if (!SAFE_KEY.test(key) || key.split('/').includes('..'))
    throw new Error(`refusing unsafe object key ${JSON.stringify(key)}`);
  const path = resolve(root, key);
  if (!path.startsWith(resolve(root) + sep))
    throw new Error(`refusing object key outside the folder: ${key}`);
  const existing = await readFile(path).catch(() => undefined);
  if (existing) {
    if (existing.equals(bytes)) return 'unchanged';
    throw new UsageError(`${path} already exists with different content; download into an empty folder`);
  }
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.partial`;
  await writeFile(temp, bytes);
  await rename(temp, path);
  return 'written';
}

export async function runDownload(options: DownloadOptions, target?: ApiTarget): Promise<DownloadSummary> {
  if (options.fromMs >= options.toMs) throw new UsageError('--from must be before --to');
  const api =
    target ??
    (await resolveTarget({
      role: 'auditor',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.localFile ? { localFile: options.localFile } : {}),
    }));
  const client = clientFor(api);
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = listSchema.parse(
      await client.listDigests({
        from: new Date(options.fromMs),
        to: new Date(options.toMs),
        limit: 500,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    ids.push(...page.digests.map((d) => d.id));
    nextToken = page.nextToken;
  } while (nextToken);

  const bar = new ProgressBar('downloading', !options.json && Boolean(process.stderr.isTTY));
  let objects = 0;
  let bytes = 0;
  let unchanged = 0;
  for (const [i, id] of ids.entries()) {
    const described = describeSchema.parse(await client.getDigest(id));
    for (const object of described.objects) {
      const response = await fetch(object.url);
      if (!response.ok) throw new Error(`download of ${object.key} failed: HTTP ${response.status}`);
      const body = Buffer.from(await response.arrayBuffer());
      if ((await writeObject(options.out, object.key, body)) === 'unchanged') unchanged++;
      objects++;
      bytes += body.length;
    }
    bar.update(i + 1, ids.length);
  }
  bar.done();

  const keys = keysSchema.parse(await client.listKeys());
  await mkdir(join(options.out, 'keys'), { recursive: true });
  for (const k of keys.keys) await writeFile(join(options.out, 'keys', `${k.keyId}.pem`), k.publicKeyPem);
  return {
    out: options.out,
    digests: ids.length,
    objects,
    bytes,
    unchanged,
    keys: keys.keys.map((k) => k.keyId),
  };
}

export function renderDownload(s: DownloadSummary): string {
  return [
    `Downloaded ${s.digests} digest(s): ${s.objects} objects, ${s.bytes} bytes (${s.unchanged} already present) into ${s.out}`,
    `  the service reports ${s.keys.length} signing key(s), saved under ${s.out}/keys/ for reference;`,
    '  verify against keys you obtained out of band:',
    `  npx auditseal verify ${s.out} --key trusted.pem --from … --to …`,
  ].join('\n');
}
