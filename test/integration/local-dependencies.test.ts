/**
 * The local stack's external pieces: the DynamoDB Local jar cache (fed by a scripted `npm pack`, so that
 * the test needs no registry) and the search for moto_server with its install fallback.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDynamoDbLocalJar } from '../../local/dynamodb-local-jar.ts';
import { resolveMotoServer } from '../../local/moto.ts';
import { REPO_ROOT } from '../support/dynamodb-local.ts';

const scratch = mkdtempSync(join(tmpdir(), 'auditseal-deps-'));
let goodTarball: string;
let badTarball: string;

/** A tarball laid out like the npm package: `package/emulator/{DynamoDBLocal.jar,DynamoDBLocal_lib/…}`. */
function buildTarball(name: string, jar: Buffer): string {
  const root = join(scratch, `${name}-src`);
  mkdirSync(join(root, 'package', 'emulator', 'DynamoDBLocal_lib'), { recursive: true });
  writeFileSync(join(root, 'package', 'emulator', 'DynamoDBLocal.jar'), jar);
  writeFileSync(join(root, 'package', 'emulator', 'DynamoDBLocal_lib', 'sqlite4java.jar'), 'lib');
  writeFileSync(join(root, 'package', 'package.json'), '{}');
  const tarball = join(scratch, `${name}.tgz`);
  execFileSync('tar', ['-czf', tarball, '-C', root, 'package']);
  return tarball;
}

/** A stand-in for `npm` that copies `tarball` into --pack-destination and counts its calls. */
function fakeNpm(tarball: string): { command: string; calls: () => number } {
  const counter = join(scratch, `calls-${Math.random().toString(16).slice(2)}`);
  const command = `${counter}.sh`;
  writeFileSync(
    command,
    [
      '#!/bin/sh',
      `echo x >> ${counter}`,
      'while [ "$1" != "--pack-destination" ]; do shift; done',
      `cp ${tarball} "$2/amplify-dynamodb-simulator-2.9.30.tgz"`,
      'echo \'[{"filename":"amplify-dynamodb-simulator-2.9.30.tgz"}]\'',
    ].join('\n'),
  );
  chmodSync(command, 0o755);
  return {
    command,
    calls: () => (existsSync(counter) ? readFileSync(counter, 'utf8').trim().split('\n').length : 0),
  };
}

beforeAll(async () => {
  // The real jar, from the shared cache (fetched once for real by the other integration tests).
  const real = await ensureDynamoDbLocalJar({ projectDir: REPO_ROOT });
  const jar = readFileSync(real.jarPath);
  goodTarball = buildTarball('good', jar);
  const tampered = Buffer.from(jar);
  tampered[tampered.length - 1]! ^= 0xff;
  badTarball = buildTarball('bad', tampered);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('Function: ensureDynamoDbLocalJar', () => {
  it('takes the jar out of the npm pack tarball into the cache, and reuses it without npm', async () => {
    // Prepare
    const cacheDir = join(scratch, 'cache-1');
    const npm = fakeNpm(goodTarball);

    // Act
    const first = await ensureDynamoDbLocalJar({ cacheDir, npm: npm.command });
    const second = await ensureDynamoDbLocalJar({ cacheDir, npm: join(scratch, 'no-such-npm') });

    // Assess
    expect(npm.calls()).toBe(1);
    expect(second).toEqual(first);
    expect(first.jarPath).toBe(
      join(cacheDir, 'dynamodb-local', 'amplify-dynamodb-simulator-2.9.30', 'DynamoDBLocal.jar'),
    );
    expect(readdirSync(first.libDir)).toEqual(['sqlite4java.jar']);
    expect(readdirSync(join(cacheDir, 'dynamodb-local'))).toEqual(['amplify-dynamodb-simulator-2.9.30']);
  });

  it('leaves one valid entry and no staging folder when called concurrently', async () => {
    // Prepare
    const cacheDir = join(scratch, 'cache-2');
    const npm = fakeNpm(goodTarball);

    // Act
    const results = await Promise.all(
      [1, 2, 3].map(() => ensureDynamoDbLocalJar({ cacheDir, npm: npm.command })),
    );

    // Assess
    expect(new Set(results.map((result) => result.jarPath)).size).toBe(1);
    expect(readdirSync(join(cacheDir, 'dynamodb-local'))).toEqual(['amplify-dynamodb-simulator-2.9.30']);
  });

  describe('when the cached jar was modified', () => {
    it('fetches it again', async () => {
      // Prepare
      const cacheDir = join(scratch, 'cache-3');
      const npm = fakeNpm(goodTarball);
      const { jarPath } = await ensureDynamoDbLocalJar({ cacheDir, npm: npm.command });
      const bytes = readFileSync(jarPath);
      bytes[100]! ^= 0x01;
      writeFileSync(jarPath, bytes);

      // Act
      const again = await ensureDynamoDbLocalJar({ cacheDir, npm: npm.command });

      // Assess
      expect(npm.calls()).toBe(2);
      expect(again.jarPath).toBe(jarPath);
    });
  });

  describe('when the tarball holds a different jar', () => {
    it('refuses it and caches nothing', async () => {
      // Prepare
      const cacheDir = join(scratch, 'cache-4');

      // Act
      const result = ensureDynamoDbLocalJar({ cacheDir, npm: fakeNpm(badTarball).command });

      // Assess
      await expect(result).rejects.toThrow(
        /DynamoDBLocal\.jar from amplify-dynamodb-simulator@2\.9\.30 has SHA-256 [0-9a-f]{64}, expected/,
      );
      expect(readdirSync(join(cacheDir, 'dynamodb-local'))).toEqual([]);
    });
  });

  describe('when npm pack fails', () => {
    it('says so and names the registry', async () => {
      // Prepare
      const failing = join(scratch, 'failing-npm.sh');
      writeFileSync(failing, '#!/bin/sh\necho "npm error code E404" >&2\nexit 1\n');
      chmodSync(failing, 0o755);

      // Act
      const result = ensureDynamoDbLocalJar({ cacheDir: join(scratch, 'cache-5'), npm: failing });

      // Assess
      await expect(result).rejects.toThrow(
        /npm pack amplify-dynamodb-simulator@2\.9\.30 failed \(is the npm registry reachable\?\)/,
      );
    });
  });
});

describe('Function: resolveMotoServer', () => {
  const saved = { PATH: process.env['PATH'], MOTO_SERVER: process.env['MOTO_SERVER'] };

  afterAll(() => {
    process.env['PATH'] = saved.PATH;
    if (saved.MOTO_SERVER === undefined) delete process.env['MOTO_SERVER'];
    else process.env['MOTO_SERVER'] = saved.MOTO_SERVER;
  });

  it('finds moto_server on PATH', async () => {
    // Prepare
    delete process.env['MOTO_SERVER'];
    process.env['PATH'] = saved.PATH;

    // Act
    const command = await resolveMotoServer({ projectDir: join(scratch, 'project-0') });

    // Assess
    expect(command).toMatch(/\/moto_server$/);
  });

  describe('when moto_server is missing and pip cannot install it', () => {
    it('fails with a message naming what is missing and how to install it', async () => {
      // Prepare
      const bin = join(scratch, 'bin');
      mkdirSync(bin, { recursive: true });
      const python = join(bin, 'python3');
      // A python whose venv has a pip that cannot reach PyPI.
      writeFileSync(
        python,
        '#!/bin/sh\nmkdir -p "$3/bin"\nprintf \'#!/bin/sh\\necho "ERROR: Could not find a version that satisfies the requirement" >&2\\nexit 1\\n\' > "$3/bin/pip"\nchmod +x "$3/bin/pip"\n',
      );
      chmodSync(python, 0o755);
      delete process.env['MOTO_SERVER'];
      process.env['PATH'] = `${bin}:/usr/bin:/bin`;
      const lines: string[] = [];

      // Act
      const result = resolveMotoServer({
        projectDir: join(scratch, 'project-1'),
        python,
        log: (line) => void lines.push(line),
      });

      // Assess
      await expect(result).rejects.toThrow(
        /moto_server is missing: it is not on PATH, MOTO_SERVER is not set/,
      );
      await expect(result).rejects.toThrow(/pip install 'moto\[server\]==5\.2\.1'/);
      await expect(result).rejects.toThrow(/apt-get install python3-moto/);
      expect(lines).toEqual([
        expect.stringContaining('creating'),
        expect.stringContaining("installing 'moto[server]==5.2.1'"),
      ]);
    });
  });

  describe('when MOTO_SERVER is set', () => {
    it('uses it as is', async () => {
      // Prepare
      process.env['MOTO_SERVER'] = '/opt/moto/bin/moto_server';

      // Act
      const command = await resolveMotoServer({ projectDir: scratch });

      // Assess
      expect(command).toBe('/opt/moto/bin/moto_server');
    });
  });
});
