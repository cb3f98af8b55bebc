/**
 * Runs the openssl CLI as an independent second opinion on our crypto. No shell: arguments are passed
 * as an array and files live in a private temporary folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What `openssl dgst -sha256 -verify` said. */
export interface OpensslVerdict {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `openssl dgst -sha256 -verify key.pem -signature sig.der statement`, exactly as FORMAT.md tells auditors. */
export function opensslVerify(
  publicKeyPem: string,
  statement: Uint8Array,
  derSignature: Uint8Array,
): OpensslVerdict {
  const dir = mkdtempSync(join(tmpdir(), 'auditseal-openssl-'));
  try {
    writeFileSync(join(dir, 'key.pem'), publicKeyPem);
    writeFileSync(join(dir, 'sig.der'), derSignature);
    writeFileSync(join(dir, 'statement'), statement);
    const result = spawnSync(
      'openssl',
      ['dgst', '-sha256', '-verify', 'key.pem', '-signature', 'sig.der', 'statement'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl pkey -pubin -outform DER | openssl dgst -sha256`: the key id as openssl computes it. */
export function opensslKeyId(publicKeyPem: string): string {
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: publicKeyPem });
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString('utf8');
  return digest.split(' ')[0]!.trim();
}

/** Runs openssl with `input` on stdin and returns stdout as text; throws on a non-zero exit. */
export function openssl(args: readonly string[], input?: string | Uint8Array): string {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8');
}
