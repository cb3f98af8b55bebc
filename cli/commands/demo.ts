/**
 * `auditseal demo`: the offline walk-through. Seals the shipped CloudTrail sample with the demo key
 * into a fresh folder, verifies it, then shows that a one-byte change is caught.
 */
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FINDING_CODES } from '../../shared/verify/findings.ts';
import { renderSeal, runSeal } from './seal.ts';
import { renderReport, runVerify } from './verify.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

async function firstArchive(dir: string): Promise<string> {
  const entries = await readdir(join(dir, 'archives'), { recursive: true });
  const found = entries.filter((e) => e.endsWith('.jsonl')).sort()[0];
  if (!found) throw new Error('no archive written');
  return join(dir, 'archives', found);
}

/** Runs the demo and returns the exit status (0 when both the clean and the tampered checks behave). */
export async function runDemo(out: string, log: (...lines: string[]) => void): Promise<number> {
  const sample = join(repo, 'examples', 'cloudtrail-sample.jsonl');
  const privateKey = join(repo, 'test', 'fixtures', 'keys', 'example-private.pem');
  const publicKey = join(repo, 'test', 'fixtures', 'keys', 'example-public.pem');
  await rm(out, { recursive: true, force: true });

  log(`1. Sealing ${sample} (real CloudTrail records) into ${out}, one digest per day…`);
  const summary = await runSeal({
    in: sample,
    out,
    key: privateKey,
    ledger: 'demo',
    periodSeconds: 86_400,
    skipInvalid: false,
    json: false,
  });
  log(renderSeal(summary));

  log('', `2. Verifying ${out} offline, trusting only ${publicKey}…`);
  const clean = await runVerify({ dir: out, keys: [publicKey], deep: true, json: false });
  log(renderReport(out, clean));

  const tampered = `${out}-tampered`;
  await rm(tampered, { recursive: true, force: true });
  await cp(out, tampered, { recursive: true });
  const archive = await firstArchive(tampered);
  const bytes = await readFile(archive, 'utf8');
  await writeFile(
    archive,
    bytes
      .replace('"errorCode":"AccessDenied"', '"errorCode":"AccessGranted"')
      .replace('"result":"failure"', '"result":"success"'),
  );
  log('', `3. Changing one event in ${archive} and verifying again…`);
  const dirty = await runVerify({ dir: tampered, keys: [publicKey], deep: false, json: false });
  const codes = [...new Set(dirty.findings.map((f) => f.code))];
  log(
    `   ${dirty.valid ? 'NOT DETECTED (this is a bug)' : `detected: ${codes.map((c) => `${c} (${FINDING_CODES[c]})`).join('; ')}`}`,
  );
  log(
    '',
    'Try it yourself:',
    `  npx auditseal verify ${out} --key ${publicKey}`,
    `  npx auditseal verify ${tampered} --key ${publicKey} --json`,
    `  openssl dgst -sha256 -verify ${publicKey} -signature <digest>.sig <digest>.statement.json`,
  );
  return clean.valid && !dirty.valid ? 0 : 1;
}
