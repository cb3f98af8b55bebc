/**
 * `auditseal head --out FILE`: saves the newest signed statement (`GET /v1/head`, auditor role) so that an
 * auditor can later prove a folder was cut short (`auditseal verify DIR --head FILE`).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HeadError, parseSignedHead } from '../../shared/head/signed-head.ts';
import { ApiError, type ApiTarget, resolveTarget, signedJson } from '../api-client.ts';
import { UsageError } from '../errors.ts';

export interface HeadOptions {
  readonly out: string;
  readonly endpoint?: string;
  readonly localFile?: string;
}

export interface HeadSummary {
  readonly out: string;
  readonly ledger: string;
  readonly periodStart: string;
  readonly periodSeconds: number;
  readonly sequence: number;
  readonly keyId: string;
  readonly statementSha256: string;
}

export async function runHead(options: HeadOptions, target?: ApiTarget): Promise<HeadSummary> {
  const api =
    target ??
    (await resolveTarget({
      role: 'auditor',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.localFile ? { localFile: options.localFile } : {}),
    }));
  let body: unknown;
  try {
    body = await signedJson<unknown>(api, 'GET', '/v1/head');
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    throw new UsageError(
      'no head yet: nothing has been sealed on this ledger. Each period is sealed shortly after it ends ' +
        '(locally about 16 s; GET /v1/digests gives periodSeconds and graceSeconds). ' +
        'Run this again then, or first wait with `npx auditseal download --wait --from … --to … --out DIR`.',
    );
  }
  const text = `${JSON.stringify(body, null, 2)}\n`;
  let head: ReturnType<typeof parseSignedHead>['head'];
  try {
    ({ head } = parseSignedHead(Buffer.from(text)));
  } catch (error) {
    if (error instanceof HeadError) throw new Error(`the API's head ${error.message}`);
    throw error;
  }
  await mkdir(dirname(options.out), { recursive: true });
  const temp = `${options.out}.partial`;
  try {
    await writeFile(temp, text, { flag: 'w' });
    await rename(temp, options.out);
  } catch (error) {
    throw new UsageError(`cannot write ${options.out}: ${(error as Error).message}`);
  }
  return {
    out: options.out,
    ledger: head.ledger,
    periodStart: head.periodStart,
    periodSeconds: head.periodSeconds,
    sequence: head.sequence,
    keyId: head.keyId,
    statementSha256: head.statementSha256,
  };
}

export function renderHead(s: HeadSummary): string {
  return [
    `Saved the head of ledger ${s.ledger} to ${s.out}: period ${s.periodStart} (${s.periodSeconds} s), sequence ${s.sequence}`,
    `  statement SHA-256 ${s.statementSha256}, signed by key ${s.keyId}`,
    '  keep it; later, a folder that ends before it is reported LEDGER_TRUNCATED:',
    `  npx auditseal verify DIR --key trusted.pem --head ${s.out}`,
  ].join('\n');
}
