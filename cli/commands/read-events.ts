/**
 * The reader's and auditor's event commands, thin shells over the API and shared/query:
 * - `auditseal search [filters] [--all] [--json] [--verify --key PEM]` (reader role);
 * - `auditseal event ID [--json]` (reader role);
 * - `auditseal proof ID --out FILE` (auditor role);
 * - `auditseal verify-proof FILE --key PEM` (offline).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { checkReceipt, checkReceiptAgainstEvent } from '../../shared/ledger/batch-receipts.ts';
import type { Receipt } from '../../shared/ledger/formats.ts';
import { eventPath } from '../../shared/query/event-path.ts';
import { type ProofCheck, verifyEventProof } from '../../shared/query/event-proof.ts';
import {
  eventAnswerSchema,
  eventProofSchema,
  searchHitSchema,
  searchPageSchema,
} from '../../shared/query/responses.ts';
import { ApiError, type ApiTarget, resolveTarget, signedJson } from '../api-client.ts';
import { UsageError } from '../errors.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';

/** Where and as whom to call the API. */
export interface ApiOptions {
  readonly endpoint?: string;
  readonly localFile?: string;
}

async function target(role: 'reader' | 'auditor', o: ApiOptions, given?: ApiTarget): Promise<ApiTarget> {
  return (
    given ??
    resolveTarget({
      role,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.localFile ? { localFile: o.localFile } : {}),
    })
  );
}

const hitSchema = searchHitSchema.extend({ receipt: z.unknown().optional() });
const pageSchema = searchPageSchema.extend({ events: z.array(hitSchema) });
export type SearchHitOut = z.infer<typeof hitSchema>;

/** The search filters, named as the API names them. */
export interface SearchFilters {
  readonly actor?: string;
  readonly resource?: string;
  readonly action?: string;
  readonly outcome?: string;
  readonly channel?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: string;
}

export interface SearchOptions extends ApiOptions {
  readonly filters: SearchFilters;
  /** Follow cursors to the last page. */
  readonly all: boolean;
  /** Check every result's receipt against these trusted keys (and that it is about the returned bytes). */
  readonly verifyKeys?: readonly string[];
}

/** One result's receipt check, with `--verify`. */
export interface ResultCheck {
  readonly id: string;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
}

export interface SearchOutcome {
  readonly events: SearchHitOut[];
  readonly nextCursor?: string;
  readonly checks?: ResultCheck[];
}

/** Runs a search: one page, or every page with `all`. */
export async function runSearch(options: SearchOptions, given?: ApiTarget): Promise<SearchOutcome> {
  const keys = options.verifyKeys === undefined ? undefined : await loadTrustedKeys(options.verifyKeys);
  const api = await target('reader', options, given);
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.filters)) if (value !== undefined) query[name] = value;
  if (keys) query['receipts'] = 'true';
  const events: SearchHitOut[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = pageSchema.parse(
      await signedJson(api, 'GET', '/v1/events', { ...query, ...(cursor ? { cursor } : {}) }),
    );
    events.push(...page.events);
    cursor = page.nextCursor;
    pages++;
  } while (options.all && cursor !== undefined && pages < 100_000);
  const checks = keys === undefined ? undefined : events.map((hit) => checkHit(hit, keys));
  return { events, ...(cursor === undefined ? {} : { nextCursor: cursor }), ...(checks ? { checks } : {}) };
}

function checkHit(hit: SearchHitOut, keys: Parameters<typeof checkReceipt>[1]): ResultCheck {
  if (hit.receipt === undefined)
    return { id: hit.id, ok: false, code: 'RECEIPT_MISSING', message: 'no receipt' };
  const check = checkReceipt(hit.receipt, keys);
  if (!check.ok) return { id: hit.id, ok: false, code: check.code, message: check.message };
  if (check.receipt.eventId !== hit.id) {
    return {
      id: hit.id,
      ok: false,
      code: 'RECEIPT_EVENT_MISMATCH',
      message: 'the receipt is about another event',
    };
  }
  const match = checkReceiptAgainstEvent(check.receipt as Receipt, Buffer.from(hit.eventJson, 'utf8'));
  return match.ok
    ? { id: hit.id, ok: true }
    : { id: hit.id, ok: false, code: 'RECEIPT_EVENT_MISMATCH', message: match.message };
}

/** A table of results: time, id, actor, action, resource, outcome (and the check, with `--verify`). */
export function renderSearch(outcome: SearchOutcome, filters: SearchFilters = {}): string {
  const checks = new Map(outcome.checks?.map((c) => [c.id, c]) ?? []);
  const rows = outcome.events.map((hit) => {
    const e = JSON.parse(hit.eventJson) as {
      actor?: { id?: string };
      action?: string;
      resource?: { id?: string };
      outcome?: { result?: string };
    };
    const check = checks.get(hit.id);
    return [
      hit.receivedAt,
      hit.id,
      e.actor?.id ?? '',
      e.action ?? '',
      e.resource?.id ?? '-',
      e.outcome?.result ?? '',
      ...(outcome.checks ? [check?.ok ? 'VERIFIED' : `${check?.code}`] : []),
    ];
  });
  const header = [
    'RECEIVED',
    'ID',
    'ACTOR',
    'ACTION',
    'RESOURCE',
    'OUTCOME',
    ...(outcome.checks ? ['RECEIPT'] : []),
  ];
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  if (outcome.events.length === 0) return noEventsText(filters);
  const lines = [line(header), ...rows.map(line)];
  lines.push(`${outcome.events.length} event(s)${outcome.nextCursor ? '; more follow (use --all)' : ''}`);
  const failed = outcome.checks?.filter((c) => !c.ok) ?? [];
  for (const f of failed) lines.push(`INVALID ${f.id}: ${f.code}: ${f.message}`);
  return lines.join('\n');
}

/** Why a search found nothing, and what to try next. */
function noEventsText(filters: SearchFilters): string {
  const given = Object.entries(filters).filter(([name, value]) => value !== undefined && name !== 'limit');
  return [
    given.length === 0
      ? 'No events: nothing is stored on this ledger yet.'
      : `No events match ${given.map(([name, value]) => `--${name} ${JSON.stringify(value)}`).join(' ')}.`,
    '  Events are searchable as soon as POST /v1/events answers 201. Filters match exactly (ids and',
    '  actions are case-sensitive); --from and --to are the times the service received the events, not',
    '  their eventTime. Drop a filter or widen --from to see more; post events with `npx auditseal post`',
    '  or replay samples with `npx auditseal local replay-cloudtrail examples/cloudtrail-sample.jsonl`.',
  ].join('\n');
}

/** `auditseal event ID`: the event, its receipt, its period and digest reference. */
const versionRefSchema = z.object({ n: z.number().int(), hash: z.string(), effectiveAt: z.string() });
/** `include=profile`: the versions of the event's resource around the event (docs/API.md). */
const eventProfileSchema = z.object({
  resourceId: z.string(),
  atEvent: versionRefSchema.nullable(),
  after: versionRefSchema.optional(),
});

/** `auditseal event ID [--include-profile]`: one event (reader role), with its resource's versions around it. */
export async function runEvent(
  id: string,
  options: ApiOptions & { readonly includeProfile?: boolean },
  given?: ApiTarget,
): Promise<Record<string, unknown>> {
  const api = await target('reader', options, given);
  const query: Record<string, string> = options.includeProfile ? { include: 'profile' } : {};
  const raw = await signedJson<Record<string, unknown>>(api, 'GET', eventPath(id), query);
  const answer = eventAnswerSchema.parse(raw);
  if (!options.includeProfile || raw['profile'] === undefined) return answer;
  return { ...answer, profile: eventProfileSchema.parse(raw['profile']) };
}

export function renderEvent(body: Record<string, unknown>): string {
  const period = body['period'] as { id?: string } | undefined;
  const digest = body['digest'] as { id?: string; digestKey?: string } | null;
  const profile = body['profile'] as z.infer<typeof eventProfileSchema> | undefined;
  const ref = (v: z.infer<typeof versionRefSchema>) =>
    `version ${v.n} (in force from ${v.effectiveAt}, hash ${v.hash.slice(0, 16)}…)`;
  return [
    `${body['id']} received ${body['receivedAt']}, period ${period?.id ?? '?'}`,
    digest ? `sealed in digest ${digest.digestKey}` : 'not sealed yet',
    ...(profile === undefined
      ? []
      : [
          `profile of ${profile.resourceId} at the event's time: ${profile.atEvent ? ref(profile.atEvent) : 'none'}`,
          ...(profile.after ? [`the version it caused: ${ref(profile.after)}`] : []),
        ]),
    JSON.stringify(JSON.parse(String(body['eventJson'])), null, 2),
  ].join('\n');
}

/** `auditseal proof ID --out FILE`: fetches the event's inclusion proof (auditor role) into a file. */
export async function runProof(
  id: string,
  out: string,
  options: ApiOptions,
  given?: ApiTarget,
): Promise<{ out: string; leafIndex: number; treeSize: number }> {
  const api = await target('auditor', options, given);
  let answer: unknown;
  try {
    answer = await signedJson(api, 'GET', eventPath(id, '/proof'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && error.code === 'NOT_SEALED') {
      const retryAfter = Number(error.body['retryAfter']);
      throw new UsageError(
        `${id}: its period is not sealed yet, so there is no proof to fetch; ` +
          (Number.isFinite(retryAfter)
            ? `retry in about ${retryAfter} s`
            : 'retry once its period is sealed') +
          ' (or wait with `npx auditseal download --wait …` first).',
      );
    }
    throw error;
  }
  const proof = eventProofSchema.parse(answer);
  await writeFile(out, `${JSON.stringify(proof, null, 2)}\n`);
  return { out, leafIndex: proof.leafIndex, treeSize: proof.treeSize };
}

/** `auditseal verify-proof FILE --key PEM`: checks a proof file offline. */
export async function runVerifyProof(file: string, keyPaths: readonly string[]): Promise<ProofCheck> {
  let value: unknown;
  try {
    const bytes = await readFile(file);
    if (bytes.length > 8 * 1024 * 1024) throw new UsageError(`${file} is larger than 8 MiB`);
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read proof ${file}: ${(error as Error).message}`);
  }
  return verifyEventProof(value, await loadTrustedKeys(keyPaths));
}

export function renderProofCheck(file: string, check: ProofCheck): string {
  return check.ok
    ? `VALID   ${file}: leaf ${check.leafIndex} of ${check.statement.treeSize} in period ${check.statement.periodStart} (${check.statement.periodSeconds} s), sequence ${check.statement.sequence}, signed by ${check.statement.keyId}`
    : `INVALID ${file}: ${check.code}: ${check.message}`;
}
