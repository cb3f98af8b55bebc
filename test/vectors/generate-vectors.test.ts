/**
 * Writes the public test vectors from the tamper scenarios (test/tamper/scenarios.ts). Runs only with
 * UPDATE_VECTORS=1 (`UPDATE_VECTORS=1 npx vitest run test/vectors/generate-vectors.test.ts`): ECDSA
 * signatures are random, so the vectors are made once and committed, then checked by vectors.test.ts.
 * UPDATE_VECTORS=new adds only the cases of scenarios that have none yet, over the committed pristine/,
 * so the committed cases and their signatures stay as they are.
 */
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deepCheckEvent } from '../../cli/commands/verify.ts';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { verifyFolder } from '../../shared/verify/verify-folder.ts';
import { copyFolder, removeFolder, tempFolder } from '../support/sealed-folder.ts';
import { caseFolders, headFiles, keyPems, SCENARIOS, sealPristine } from '../tamper/scenarios.ts';
import {
  CASES_DIR,
  type ExpectedVector,
  PRISTINE_DIR,
  sortFindings,
  TRUSTED_KEY,
  VECTORS_DIR,
  vectorFinding,
} from './vector-files.ts';

const DEMO_KEY = fileURLToPath(new URL('../fixtures/keys/example-private.pem', import.meta.url));
const DEMO_PUBLIC_KEY = fileURLToPath(new URL('../fixtures/keys/example-public.pem', import.meta.url));

/** Relative paths of the entries (files, FIFOs) under `dir`, sorted. */
function entries(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

function slug(when: string): string {
  return when
    .toLowerCase()
    .replace(/--/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}

function write(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

const MODE = process.env['UPDATE_VECTORS'];

describe.runIf(MODE === '1' || MODE === 'new')('Generator: test/vectors', () => {
  it('writes pristine/, keys/ and one folder per scenario under cases/', { timeout: 300_000 }, async () => {
    // Prepare
    const signer = await KeyFileSigner.fromFile(DEMO_KEY);
    expect(await signer.publicKeyPem()).toBe(readFileSync(DEMO_PUBLIC_KEY, 'utf8'));
    const sealed = await sealPristine(tempFolder('vectors-pristine'), signer);
    const pristine =
      MODE === 'new' ? { ...sealed, dir: copyFolder(PRISTINE_DIR, 'vectors-committed') } : sealed;
    if (MODE === 'new') removeFolder(sealed.dir);
    else {
      for (const sub of ['pristine', 'cases', 'keys'])
        rmSync(join(VECTORS_DIR, sub), { recursive: true, force: true });
      cpSync(pristine.dir, PRISTINE_DIR, { recursive: true });
      write(TRUSTED_KEY, readFileSync(DEMO_PUBLIC_KEY));
    }
    const before = new Set(entries(pristine.dir));
    const slugs = new Set<string>();

    for (const scenario of SCENARIOS) {
      const name = slug(scenario.when);
      expect(slugs.has(name), name).toBe(false);
      slugs.add(name);
      const caseDir = join(CASES_DIR, name);
      if (MODE === 'new' && existsSync(caseDir)) continue;

      // Act
      const dir = copyFolder(pristine.dir, 'vector-case');
      const expected = await scenario.tamper({ dir, pristine });
      const options = { keys: pristine.keys, ...expected.options };
      const report = await verifyFolder(new FolderReader(dir), options);

      // Assess: the scenario's own code set, as the tamper suite checks it.
      expect([...new Set(report.findings.map((f) => f.code))].sort(), scenario.when).toEqual(
        [...new Set(scenario.codes)].sort(),
      );

      mkdirSync(caseDir, { recursive: true });
      const after = entries(dir);
      const fifo: string[] = [];
      for (const path of after) {
        const info = lstatSync(join(dir, path));
        if (info.isFIFO()) fifo.push(path);
        else if (!info.isFile()) throw new Error(`${scenario.when}: ${path} is neither a file nor a FIFO`);
        else if (
          !before.has(path) ||
          !readFileSync(join(dir, path)).equals(readFileSync(join(pristine.dir, path)))
        )
          write(join(caseDir, 'overlay', path), readFileSync(join(dir, path)));
      }
      const removed = [...before].filter((p) => !after.includes(p));
      if (removed.length > 0) write(join(caseDir, 'remove.txt'), `${removed.join('\n')}\n`);
      if (fifo.length > 0) write(join(caseDir, 'special.json'), `${JSON.stringify({ fifo }, null, 2)}\n`);

      const args: string[] = [];
      if (options.fromMs !== undefined) args.push('--from', new Date(options.fromMs).toISOString());
      if (options.toMs !== undefined) args.push('--to', new Date(options.toMs).toISOString());
      if (options.head !== undefined) {
        write(join(caseDir, 'head.json'), headFiles.get(options.head)!);
        args.push('--head', 'head.json');
      }
      if (options.resource !== undefined) args.push('--resource', options.resource);
      if (options.deepCheck === deepCheckEvent) args.push('--deep');
      else if (options.deepCheck !== undefined) throw new Error(`${scenario.when}: unknown deep check`);
      if (options.keys !== pristine.keys) write(join(caseDir, 'trusted.pem'), keyPems.get(options.keys)!);
      if (args.length > 0) write(join(caseDir, 'args.json'), `${JSON.stringify(args)}\n`);

      const vector: ExpectedVector = {
        when: scenario.when,
        valid: report.valid,
        exit: report.valid ? 0 : 1,
        codes: [...new Set(report.findings.map((f) => f.code))].sort(),
        findings: sortFindings(report.findings.map(vectorFinding)),
      };
      write(join(caseDir, 'expected.json'), `${JSON.stringify(vector, null, 2)}\n`);
      removeFolder(dir);
    }
    for (const dir of caseFolders.splice(0)) removeFolder(dir);
    removeFolder(pristine.dir);
  });
});
