/**
 * An example app: a bastion host that records its SSH sessions in auditseal through `auditseal/client`,
 * keeps every receipt, and checks them against a public key it pinned in advance.
 *
 *   node --import tsx examples/client-app/bastion-audit.ts        (from the repository, after npm start)
 *
 * Configuration (environment):
 * - `AUDITSEAL_ENDPOINT`: a deployed API (`https://<api-id>.execute-api.<region>.amazonaws.com/prod`),
 *   signed with the standard AWS credential chain. Unset: the local stack, with the writer keys of
 *   `AUDITSEAL_LOCAL_FILE` (default `.auditseal/local.json`).
 * - `AUDITSEAL_TRUSTED_KEY`: the PEM file of the service's public key, obtained out of band (locally:
 *   `.auditseal/keys/current.pem`). Required: a receipt is only worth what the key it is checked with is.
 * - `RECEIPTS_DIR`: where receipts are kept (default `receipts`).
 * - `SESSION_ID`, `SESSION_TIME`: the session to record (default: a new one, now).
 *
 * Exit status: 0 stored and verified, 1 a kept receipt does not verify, 2 anything else.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AuditsealClient, AuditsealError, type Receipt } from 'auditseal/client';

async function client(trustedKeys: string): Promise<AuditsealClient> {
  const endpoint = process.env['AUDITSEAL_ENDPOINT'];
  if (endpoint) return new AuditsealClient({ endpoint, trustedKeys });
  return AuditsealClient.fromLocalStack({
    role: 'writer',
    file: process.env['AUDITSEAL_LOCAL_FILE'] ?? '.auditseal/local.json',
    trustedKeys,
  });
}

/**
 * What a bastion records for one SSH session. Ids are stable, so a retry never stores twice; a retry
 * must also send the same content (times included), or the API answers 409 ID_CONFLICT. An app keeps
 * its events until it holds their receipts.
 */
function sessionEvents(host: string, session: string, at: string, user: string): Record<string, unknown>[] {
  const base = {
    eventTime: at,
    actor: { id: user, type: 'user', authMethod: 'ssh-key', sessionId: session },
    resource: { id: `host/${host}`, type: 'Bastion::Host', name: host },
    sourceIp: '10.0.3.17',
  };
  return [
    { ...base, id: `${host}:ssh/${session}/1`, action: 'ssh.login', outcome: { result: 'success' } },
    {
      ...base,
      id: `${host}:ssh/${session}/2`,
      action: 'sudo.exec',
      outcome: { result: 'success' },
      details: { command: 'systemctl restart nginx' },
    },
    { ...base, id: `${host}:ssh/${session}/3`, action: 'ssh.logout', outcome: { result: 'success' } },
  ];
}

async function main(): Promise<number> {
  const keyFile = process.env['AUDITSEAL_TRUSTED_KEY'];
  if (!keyFile) {
    process.stderr.write('set AUDITSEAL_TRUSTED_KEY to the PEM file of the service public key\n');
    return 2;
  }
  const receiptsDir = process.env['RECEIPTS_DIR'] ?? 'receipts';
  const session = process.env['SESSION_ID'] ?? randomUUID();
  const auditseal = await client(await readFile(keyFile, 'utf8'));

  // 1. Post. With trustedKeys set, postEvents also verifies every receipt before it returns.
  const at = process.env['SESSION_TIME'] ?? new Date().toISOString();
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'bastion';
  const events = sessionEvents(host, session, at, 'alice');
  const { receipts, stored, duplicates } = await auditseal.postEvents(events);
  process.stdout.write(`stored ${stored.length}, already stored ${duplicates.length}\n`);

  // 2. Keep the receipts: one JSON array per session (`auditseal verify-receipt` and `verify` read it).
  await mkdir(receiptsDir, { recursive: true });
  await writeFile(join(receiptsDir, `session-${session}.json`), `${JSON.stringify(receipts, null, 2)}\n`);

  // 3. Later (or in an audit job): check every kept receipt again, trusting only the pinned key.
  let valid = 0;
  let invalid = 0;
  // A file holds one session's array, or one receipt as `auditseal post --out DIR` writes it.
  for (const file of (await readdir(receiptsDir)).filter((f) => f.endsWith('.json')).sort()) {
    const parsed = JSON.parse(await readFile(join(receiptsDir, file), 'utf8')) as Receipt | Receipt[];
    const kept = Array.isArray(parsed) ? parsed : [parsed];
    for (const check of auditseal.verifyReceipts(kept)) {
      if (check.ok) valid++;
      else {
        invalid++;
        process.stdout.write(`INVALID ${file}: ${check.eventId ?? '?'}: ${check.code}: ${check.message}\n`);
      }
    }
  }
  process.stdout.write(`kept receipts: ${valid} valid, ${invalid} invalid, in ${receiptsDir}\n`);
  return invalid === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Every client error says what failed: the API's {code, message}, or which endpoint was unreachable.
    process.stderr.write(
      `bastion-audit: ${error instanceof AuditsealError ? error.message : String(error)}\n`,
    );
    if (error instanceof AuditsealError && error.kind === 'receipt') process.exitCode = 1;
    else process.exitCode = 2;
  },
);
