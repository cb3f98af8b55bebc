/**
 * The layout of the public test vectors (test/vectors/README.md), shared by the generator
 * (generate-vectors.test.ts) and the check (vectors.test.ts).
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkfifoSync } from '../support/fifo.ts';
import { tempFolder } from '../support/sealed-folder.ts';

export const VECTORS_DIR = fileURLToPath(new URL('./', import.meta.url));
export const PRISTINE_DIR = join(VECTORS_DIR, 'pristine');
export const CASES_DIR = join(VECTORS_DIR, 'cases');
export const TRUSTED_KEY = join(VECTORS_DIR, 'keys', 'trusted.pem');

/** What `auditseal verify --json` must report for a case; findings are compared as a set. */
export interface ExpectedVector {
  readonly when: string;
  readonly valid: boolean;
  readonly exit: 0 | 1;
  readonly codes: string[];
  readonly findings: VectorFinding[];
}

export interface VectorFinding {
  readonly code: string;
  readonly object: string;
  readonly eventId?: string;
  readonly eventIndex?: number;
}

/** Objects a case needs that git cannot store: created by the harness. */
export interface SpecialFiles {
  /** Relative paths to create as FIFOs (named pipes). */
  readonly fifo?: string[];
}

/** The projection of a finding the vectors pin (messages and evidence may differ between verifiers). */
export function vectorFinding(f: {
  code: string;
  object: string;
  eventId?: string | undefined;
  eventIndex?: number | undefined;
}): VectorFinding {
  return {
    code: f.code,
    object: f.object,
    ...(f.eventId !== undefined ? { eventId: f.eventId } : {}),
    ...(f.eventIndex !== undefined ? { eventIndex: f.eventIndex } : {}),
  };
}

/** Findings in a stable order, for comparison as a multiset. */
export function sortFindings(findings: readonly VectorFinding[]): VectorFinding[] {
  const key = (f: VectorFinding) => JSON.stringify([f.code, f.object, f.eventIndex ?? -1, f.eventId ?? '']);
  return [...findings].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function caseNames(): string[] {
  if (!existsSync(CASES_DIR)) return [];
  return readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The `auditseal verify` arguments of a case besides DIR, --key and --json; file names are case-relative. */
export function caseArgs(caseDir: string): string[] {
  const path = join(caseDir, 'args.json');
  const args = existsSync(path) ? readJson<string[]>(path) : [];
  return args.map((a, i) => (args[i - 1] === '--head' ? join(caseDir, a) : a));
}

/** The trusted key of a case: its own `trusted.pem` if it has one, else keys/trusted.pem. */
export function caseKey(caseDir: string): string {
  const own = join(caseDir, 'trusted.pem');
  return existsSync(own) ? own : TRUSTED_KEY;
}

/** Builds a case's folder in a fresh temporary folder: pristine, then overlay/, remove.txt, special.json. */
export function materialize(caseDir: string): string {
  const dir = tempFolder('vector');
  cpSync(PRISTINE_DIR, dir, { recursive: true });
  const overlay = join(caseDir, 'overlay');
  if (existsSync(overlay)) cpSync(overlay, dir, { recursive: true, force: true });
  const remove = join(caseDir, 'remove.txt');
  if (existsSync(remove)) {
    for (const line of readFileSync(remove, 'utf8').split('\n')) {
      if (line.trim() !== '') rmSync(join(dir, line.trim()), { force: true });
    }
  }
  const special = join(caseDir, 'special.json');
  if (existsSync(special)) {
    for (const path of readJson<SpecialFiles>(special).fifo ?? []) {
      rmSync(join(dir, path), { force: true });
      mkfifoSync(join(dir, path));
    }
  }
  return dir;
}
