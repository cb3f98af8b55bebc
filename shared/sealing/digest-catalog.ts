/**
 * What `GET /v1/digests` and `GET /v1/digests/{id}` return: the sealed periods, and for one period every
 * object an offline verifier needs (digest, statement, signature, archive chunks and indexes) with a
 * short-lived download link each. Object bytes never pass through the API.
 */
import { z } from 'zod';
import { digestSchema } from '../ledger/formats.ts';
import { digestObjectKey } from '../ledger/object-keys.ts';
import { compactLabel, isoSeconds, type Period, parseCompactLabel, periodOf } from '../ledger/period.ts';
import type { ChainHead } from '../ledger/seal-period.ts';
import type { DigestCatalog, ObjectLinks } from '../ports/digest-catalog.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/** How long a download link stays valid. */
export const LINK_SECONDS = 900;

/** A digest's public id: its period, e.g. `20261122T210000Z-3600s`. */
export function digestId(period: Period): string {
  return `${compactLabel(period.startMs)}-${period.seconds}s`;
}

/** Parses a digest id; undefined for anything digestId would not produce. */
export function parseDigestId(id: string): Period | undefined {
  const m = /^(\d{8}T\d{6}Z)-(\d{2,5})s$/.exec(id);
  if (!m) return undefined;
  const startMs = parseCompactLabel(m[1]!);
  const seconds = Number(m[2]);
  if (startMs === undefined || seconds < 60 || seconds > 86_400 || 86_400 % seconds !== 0) return undefined;
  if (startMs % (seconds * 1000) !== 0) return undefined;
  return { startMs, seconds };
}

export interface DigestSummary {
  readonly id: string;
  readonly periodStart: string;
  readonly periodSeconds: number;
  readonly sequence: number;
  readonly digestKey: string;
  readonly statementSha256: string;
}

function summary(head: ChainHead): DigestSummary {
  return {
    id: digestId(head.period),
    periodStart: isoSeconds(head.period.startMs),
    periodSeconds: head.period.seconds,
    sequence: head.sequence,
    digestKey: head.digestKey,
    statementSha256: head.statementSha256,
  };
}

export const listQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    nextToken: z.string().max(512).optional(),
  })
  .strict();

/** The ledger's period length and sealing grace, so clients can tell "not sealed yet" from "missing". */
export interface SealingSchedule {
  readonly periodSeconds: number;
  /** A period is sealed about this long after it ends. */
  readonly graceSeconds: number;
}

/**
 * Lists the sealed periods that overlap [from, to), paginated. `from` inside a period includes that
 * period: the events received at `from` are in it.
 */
export async function listDigests(
  ledger: string,
  query: z.infer<typeof listQuerySchema>,
  catalog: DigestCatalog,
  schedule: SealingSchedule,
): Promise<{ digests: DigestSummary[]; nextToken?: string } & SealingSchedule> {
  const fromMs = query.from ? periodOf(Date.parse(query.from), schedule.periodSeconds).startMs : 0;
  // Period starts are whole seconds: a fractional `to` still includes the period that starts before it.
  const toMs = query.to ? Math.ceil(Date.parse(query.to) / 1000) * 1000 : Date.UTC(9999, 11, 31);
  const page = await catalog.listSeals(ledger, fromMs, toMs, query.limit, query.nextToken);
  return {
    digests: page.items.map(summary),
    ...(page.cursor ? { nextToken: page.cursor } : {}),
    periodSeconds: schedule.periodSeconds,
    graceSeconds: schedule.graceSeconds,
  };
}

export interface DigestObjects extends DigestSummary {
  readonly objects: { key: string; url: string }[];
  readonly expiresAt: string;
}

/** One sealed period with a download link for each of its objects; undefined if not sealed. */
export async function describeDigest(
  ledger: string,
  period: Period,
  deps: { catalog: DigestCatalog; objects: ObjectStore; links: ObjectLinks; now: () => Date },
): Promise<DigestObjects | undefined> {
  const head = await deps.catalog.getSeal(ledger, period);
  if (!head) return undefined;
  const digestBytes = await deps.objects.get(head.digestKey);
  const keys = [
    digestObjectKey(ledger, period, 'digest'),
    digestObjectKey(ledger, period, 'statement'),
    digestObjectKey(ledger, period, 'signature'),
  ];
  if (digestBytes) {
    const digest = digestSchema.safeParse(JSON.parse(Buffer.from(digestBytes).toString('utf8')));
    if (digest.success) {
      for (const a of digest.data.archives) keys.push(a.key, a.indexKey);
      // The provenance objects (FORMAT.md §5.1, §5.2): without them a folder cannot be verified.
      for (const b of digest.data.batches) keys.push(b.key);
      if (digest.data.exclusions) keys.push(digest.data.exclusions.key);
    }
  }
  const objects = await Promise.all(
    keys.map(async (key) => ({ key, url: await deps.links.urlFor(key, LINK_SECONDS) })),
  );
  return {
    ...summary(head),
    objects,
    expiresAt: new Date(deps.now().getTime() + LINK_SECONDS * 1000).toISOString(),
  };
}
