/**
 * Fetches AWS's DynamoDB Local jar out of the npm package `amplify-dynamodb-simulator` (which ships it under
 * `package/emulator/`) with `npm pack`, without installing that package or its dependencies, and caches it.
 *
 * Cache layout: `<cacheDir>/dynamodb-local/<package>-<version>/{DynamoDBLocal.jar,DynamoDBLocal_lib/,manifest.json}`.
 * A cache entry is built in a staging folder and renamed into place, so concurrent callers never see half of one.
 */

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';

const run = promisify(execFile);

/** The npm package whose tarball carries the jar. */
export const DYNAMODB_LOCAL_PACKAGE = 'amplify-dynamodb-simulator';
export const DYNAMODB_LOCAL_PACKAGE_VERSION = '2.9.30';
/** SHA-256 of `DynamoDBLocal.jar` (DynamoDB Local 1.25.1) inside that exact package version. */
export const DYNAMODB_LOCAL_JAR_SHA256 = '454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7';

const JAR = 'DynamoDBLocal.jar';
const LIB = 'DynamoDBLocal_lib';
const MANIFEST = 'manifest.json';
const EMULATOR_DIR_IN_TARBALL = 'package/emulator';

/** A verified, cached DynamoDB Local. */
export interface DynamoDbLocalJar {
  /** The folder holding the jar; run java from here. */
  readonly dir: string;
  readonly jarPath: string;
  /** `DynamoDBLocal_lib/`: the jar's class path and the sqlite4java native libraries (`-Djava.library.path`). */
  readonly libDir: string;
}

export interface EnsureDynamoDbLocalJarOptions {
  /** Cache root; default `$AUDITSEAL_CACHE_DIR`, else `<projectDir>/.auditseal/cache`. */
  readonly cacheDir?: string;
  /** Used for the default cache root; default the current directory. */
  readonly projectDir?: string;
  /** `npm` executable; default `npm`. */
  readonly npm?: string;
  readonly log?: (line: string) => void;
}

const manifestSchema = z.object({
  package: z.string(),
  jarSha256: z.string(),
  libFiles: z.array(z.string()).min(1),
});

/** The cache root: `$AUDITSEAL_CACHE_DIR`, else `<projectDir>/.auditseal/cache`. */
export function defaultCacheDir(projectDir: string): string {
  const fromEnv = process.env['AUDITSEAL_CACHE_DIR'];
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(projectDir, '.auditseal', 'cache'));
}

/**
 * Returns the cached jar, fetching it first if the cache has no valid copy. Idempotent and safe to call
 * from several processes at once.
 * @example const { dir, jarPath, libDir } = await ensureDynamoDbLocalJar({ projectDir: process.cwd() });
 */
export async function ensureDynamoDbLocalJar(
  options: EnsureDynamoDbLocalJarOptions = {},
): Promise<DynamoDbLocalJar> {
  const root = join(
    options.cacheDir ?? defaultCacheDir(options.projectDir ?? process.cwd()),
    'dynamodb-local',
  );
  const dir = join(root, `${DYNAMODB_LOCAL_PACKAGE}-${DYNAMODB_LOCAL_PACKAGE_VERSION}`);
  const cached = await verifiedEntry(dir);
  if (cached !== undefined) return cached;

  const log = options.log ?? (() => {});
  await mkdir(root, { recursive: true });
  const work = join(root, `.staging-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(work);
    const spec = `${DYNAMODB_LOCAL_PACKAGE}@${DYNAMODB_LOCAL_PACKAGE_VERSION}`;
    log(`fetching DynamoDB Local: npm pack ${spec} (about 57 MB, once)`);
    const tarball = await npmPack(options.npm ?? 'npm', spec, work);
    await run('tar', ['-xzf', tarball, '-C', work, EMULATOR_DIR_IN_TARBALL], { maxBuffer: 16 * 1024 * 1024 });
    const staged = join(work, EMULATOR_DIR_IN_TARBALL);
    const jarSha256 = await sha256File(join(staged, JAR));
    if (jarSha256 !== DYNAMODB_LOCAL_JAR_SHA256) {
      throw new Error(
        `${JAR} from ${spec} has SHA-256 ${jarSha256}, expected ${DYNAMODB_LOCAL_JAR_SHA256}; refusing to use it`,
      );
    }
    const libFiles = (await readdir(join(staged, LIB))).sort();
    const manifest = { package: spec, jarSha256, libFiles };
    await writeFile(join(staged, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    if ((await verifiedEntry(dir)) === undefined) {
      // An invalid entry (modified, half-deleted) is moved out of the way, then replaced.
      await rename(dir, join(work, 'invalid')).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      try {
        await rename(staged, dir);
      } catch (error) {
        // Another process finished first: its copy is checked below.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const ready = await verifiedEntry(dir);
  if (ready === undefined)
    throw new Error(`the DynamoDB Local cache at ${dir} is invalid; delete it and retry`);
  log(`DynamoDB Local cached in ${dir}`);
  return ready;
}

/** The entry at `dir` if its manifest, jar hash and library files all check out. */
async function verifiedEntry(dir: string): Promise<DynamoDbLocalJar | undefined> {
  let manifest: z.infer<typeof manifestSchema>;
  try {
    manifest = manifestSchema.parse(JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')));
  } catch {
    return undefined;
  }
  const jarPath = join(dir, JAR);
  const libDir = join(dir, LIB);
  if (manifest.jarSha256 !== DYNAMODB_LOCAL_JAR_SHA256) return undefined;
  try {
    if ((await sha256File(jarPath)) !== DYNAMODB_LOCAL_JAR_SHA256) return undefined;
    const present = new Set(await readdir(libDir));
    if (!manifest.libFiles.every((file) => present.has(file))) return undefined;
    await stat(libDir);
  } catch {
    return undefined;
  }
  return { dir, jarPath, libDir };
}

async function npmPack(npm: string, spec: string, destination: string): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await run(npm, ['pack', spec, '--pack-destination', destination, '--json', '--silent'], {
      cwd: destination,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 10 * 60_000,
    }));
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.split('\n').slice(0, 4).join('\n') : String(cause);
    throw new Error(`npm pack ${spec} failed (is the npm registry reachable?):\n${detail}`, { cause });
  }
  const packed = z
    .array(z.object({ filename: z.string().min(1) }))
    .min(1)
    .parse(JSON.parse(stdout));
  // npm names scoped tarballs `scope-name-version.tgz`; the basename is all that matters here.
  return join(destination, packed[0]!.filename.replace(/^.*\//, ''));
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

// Run directly (`node --import tsx local/dynamodb-local-jar.ts`, as .ci/run does), it fetches the jar into
// the cache, or checks the cached one, ahead of the first `npm start`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const jar = await ensureDynamoDbLocalJar({ log: (line) => console.log(line) });
  console.log(`DynamoDB Local is cached in ${jar.dir}`);
}
