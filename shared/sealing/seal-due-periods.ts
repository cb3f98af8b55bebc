/**
 * Seals every period that is due: from the one after the chain head (or the genesis) through the last
 * period whose end is at least `graceSeconds` in the past. Called on every stream batch and by the
 * heartbeat, so periods without traffic are sealed too. Safe to run concurrently and repeatedly: the
 * objects are deterministic and put-only, and the registry write is put-only.
 *
 * Sealing never stops silently (G6):
 * - the chain head comes from the signed statements in the bucket, never from a registry row alone: a row
 *   that no signature backs, or one for a period that has not ended, is refused with a HEAD_REFUSED alarm
 *   and the next older row is tried;
 * - a period is closed (a put-only marker that every ingest write transaction checks) before it is read,
 *   so an event is either stored before the sealer reads its period, or refused;
 * - rows that no signed batch covers, poison rows and missing signed leaves are excluded with evidence in
 *   the digest and a SEALING_EXCLUSION alarm; they never block the period;
 * - whenever the oldest unsealed period is older than its grace plus a margin, a SEALING_LAG alarm is
 *   raised, even when this very run failed.
 */
import { createHash } from 'node:crypto';
import { parseCanonicalText } from '../canonical/jcs.ts';
import { DEFAULT_CHUNK_LEAVES } from '../ledger/archive-chunk.ts';
import type { KeyLookup } from '../ledger/batch-receipts.ts';
import { type DigestStatement, digestStatementSchema } from '../ledger/formats.ts';
import { digestObjectKey } from '../ledger/object-keys.ts';
import { isoSeconds, nextPeriod, type Period, periodEndMs, periodOf } from '../ledger/period.ts';
import { type ChainHead, type SealedPeriod, sealPeriod } from '../ledger/seal-period.ts';
import { verifyStatementSignature } from '../platform/statement-signature.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import {
  type AlarmSink,
  type PeriodEventSource,
  SealRecordConflictError,
  type SealRegistry,
} from '../ports/sealing.ts';
import type { Signer } from '../ports/signer.ts';
import type { TamperAlarm } from './tamper-alarms.ts';

export interface SealingConfig {
  readonly ledger: string;
  readonly periodSeconds: number;
  readonly graceSeconds: number;
  readonly chunkLeaves?: number;
  /** Upper bound of periods sealed per call, so one invocation stays well inside its timeout. */
  readonly maxPeriodsPerRun?: number;
  /** A period unsealed this long after its end + grace raises SEALING_LAG. Default 120 s. */
  readonly lagMarginSeconds?: number;
}

export interface SealingDeps {
  readonly objects: ObjectStore;
  readonly signer: Signer;
  readonly events: PeriodEventSource;
  readonly registry: SealRegistry;
  readonly clock: () => Date;
  /** The keys whose signatures the sealer trusts: the service's signing keys (current and rotated). */
  readonly trustedKeys: () => Promise<KeyLookup>;
  /** Where sealing alarms go (exclusions, refused heads, lag). */
  readonly alarms: AlarmSink;
}

/** Default lag margin: how long past its grace a period may stay unsealed before SEALING_LAG. */
export const DEFAULT_LAG_MARGIN_SECONDS = 120;

/** The last period whose end + grace is not after `nowMs`. */
export function lastDuePeriod(nowMs: number, periodSeconds: number, graceSeconds: number): Period {
  const current = periodOf(nowMs - graceSeconds * 1000, periodSeconds);
  return { startMs: current.startMs - periodSeconds * 1000, seconds: periodSeconds };
}

/** Seals all due periods in order and returns what it sealed (already-sealed periods included). */
export async function sealDuePeriods(config: SealingConfig, deps: SealingDeps): Promise<SealedPeriod[]> {
  const nowMs = deps.clock().getTime();
  const keys = await deps.trustedKeys();
  const alarms: TamperAlarm[] = [];
  let previous: ChainHead | null = null;
  let next: Period | undefined;
  const sealed: SealedPeriod[] = [];
  try {
    previous = await trustedHead(config, deps, keys, nowMs, alarms);
    next = previous
      ? nextPeriod(previous.period)
      : await deps.registry.ensureGenesis(config.ledger, periodOf(nowMs, config.periodSeconds));
    const due = lastDuePeriod(nowMs, config.periodSeconds, config.graceSeconds);
    const limit = config.maxPeriodsPerRun ?? 1_000;
    while (
      next.startMs <= due.startMs &&
      periodEndMs(next) + config.graceSeconds * 1000 <= nowMs &&
      sealed.length < limit
    ) {
      // Closed before it is read: from here on no ingest transaction can add a row to this period.
      await deps.events.closePeriod(config.ledger, next);
      const result = await sealPeriod(
        {
          ledger: config.ledger,
          period: next,
          previous,
          rows: deps.events.readPeriod(config.ledger, next),
          batches: deps.events.readPeriodBatches(config.ledger, next),
          keys,
          chunkLeaves: config.chunkLeaves ?? DEFAULT_CHUNK_LEAVES,
        },
        { store: deps.objects, signer: deps.signer },
      );
      alarms.push(...provenanceAlarms(config.ledger, result));
      try {
        await deps.registry.recordSeal(result);
      } catch (error) {
        // A row someone else wrote for this period: the signed objects are the truth, the row is refused.
        if (!(error instanceof SealRecordConflictError)) throw error;
        alarms.push(
          headRefused(
            config.ledger,
            result.period,
            'the registry row for this period does not match its signed statement',
          ),
        );
      }
      sealed.push(result);
      previous = result;
      next = nextPeriod(next);
    }
  } finally {
    const lag = sealingLagAlarm(config, next, deps.clock().getTime());
    if (lag) alarms.push(lag);
    await deps.alarms.raise(alarms);
  }
  return sealed;
}

/**
 * The newest registry row that a signed statement in the bucket backs, as that statement says it.
 * Rows for periods that have not ended, rows without signed objects, and rows that disagree with their
 * statement are refused, each with an alarm.
 */
async function trustedHead(
  config: SealingConfig,
  deps: SealingDeps,
  keys: KeyLookup,
  nowMs: number,
  alarms: TamperAlarm[],
): Promise<ChainHead | null> {
  for await (const row of deps.registry.sealsNewestFirst(config.ledger)) {
    const problem = await headProblem(deps.objects, config.ledger, row, keys, nowMs);
    if (problem === undefined) return row;
    alarms.push(headRefused(config.ledger, row.period, problem));
  }
  return null;
}

async function headProblem(
  store: ObjectStore,
  ledger: string,
  row: ChainHead,
  keys: KeyLookup,
  nowMs: number,
): Promise<string | undefined> {
  if (row.ledger !== ledger) return `the row names ledger ${row.ledger}`;
  if (periodEndMs(row.period) > nowMs) return 'the row seals a period that has not ended';
  const statementBytes = await store.get(digestObjectKey(ledger, row.period, 'statement'));
  const signature = await store.get(digestObjectKey(ledger, row.period, 'signature'));
  if (!statementBytes || !signature) return 'no signed statement backs the row';
  const statement = parseStatement(statementBytes);
  if (!statement) return 'the statement in the bucket is not a canonical digest statement';
  const key = keys.get(statement.keyId);
  if (!key || !(await verifyStatementSignature(key.key, statementBytes, signature))) {
    return 'the statement in the bucket is not signed by a trusted key';
  }
  const hash = createHash('sha256').update(statementBytes).digest('hex');
  if (
    hash !== row.statementSha256 ||
    statement.sequence !== row.sequence ||
    statement.digestKey !== row.digestKey ||
    statement.ledger !== ledger ||
    statement.periodStart !== isoSeconds(row.period.startMs) ||
    statement.periodSeconds !== row.period.seconds
  ) {
    return 'the row does not match the signed statement of its period';
  }
  return undefined;
}

function parseStatement(bytes: Uint8Array): DigestStatement | undefined {
  return parseCanonicalText(Buffer.from(bytes).toString('utf8'), digestStatementSchema);
}

function headRefused(ledger: string, period: Period, detail: string): TamperAlarm {
  const label = isoSeconds(period.startMs);
  return {
    alarmId: `HEAD#${label}#${period.seconds}`,
    kind: 'HEAD_REFUSED',
    eventName: 'NONE',
    pk: `SE#${ledger}`,
    sk: `${label}/${period.seconds}s`,
    changedAt: label,
    streamEventId: '',
    principal: 'auditseal-sealer',
    period: label,
    detail,
  };
}

/** One alarm per excluded row and per missing signed leaf (the samples the seal result carries). */
export function provenanceAlarms(ledger: string, sealed: SealedPeriod): TamperAlarm[] {
  const period = isoSeconds(sealed.period.startMs);
  const base = { eventName: 'NONE' as const, streamEventId: '', principal: 'auditseal-sealer', period };
  const alarms: TamperAlarm[] = [];
  for (const e of sealed.provenance.excludedSamples) {
    alarms.push({
      ...base,
      alarmId: `SEAL#${period}#X#${e.item.pk}#${e.item.sk}#${e.reason}`.slice(0, 1024),
      kind: 'SEALING_EXCLUSION',
      pk: e.item.pk,
      sk: e.item.sk,
      changedAt: period,
      ...(e.eventId !== null ? { eventId: e.eventId } : {}),
      detail: `${e.reason}: ${e.detail}`,
    });
  }
  for (const m of sealed.provenance.missingSamples) {
    alarms.push({
      ...base,
      alarmId: `SEAL#${period}#M#${m.batchId}#${m.eventId}`.slice(0, 1024),
      kind: 'SEALING_EXCLUSION',
      pk: `BA#${ledger}`,
      sk: m.batchId,
      changedAt: period,
      eventId: m.eventId,
      detail: `BATCH_LEAF_MISSING (${m.reason}): event ${m.eventId} of batch ${m.batchId} was signed at ingest but is not sealed`,
    });
  }
  const shown = sealed.provenance.excludedSamples.length + sealed.provenance.missingSamples.length;
  const total = sealed.provenance.excluded + sealed.provenance.missing;
  if (total > shown) {
    alarms.push({
      ...base,
      alarmId: `SEAL#${period}#MORE`,
      kind: 'SEALING_EXCLUSION',
      pk: `EV#${ledger}`,
      sk: period,
      changedAt: period,
      detail: `${total - shown} more excluded rows or missing leaves in this period: see its exclusions and batch records`,
    });
  }
  return alarms;
}

/** SEALING_LAG when `oldestUnsealed` ended more than grace + margin ago; undefined otherwise. */
export function sealingLagAlarm(
  config: SealingConfig,
  oldestUnsealed: Period | undefined,
  nowMs: number,
): TamperAlarm | undefined {
  if (!oldestUnsealed) return undefined;
  const margin = config.lagMarginSeconds ?? DEFAULT_LAG_MARGIN_SECONDS;
  const deadline = periodEndMs(oldestUnsealed) + (config.graceSeconds + margin) * 1000;
  if (nowMs <= deadline) return undefined;
  const label = isoSeconds(oldestUnsealed.startMs);
  return {
    alarmId: `LAG#${label}#${oldestUnsealed.seconds}`,
    kind: 'SEALING_LAG',
    eventName: 'NONE',
    pk: `SE#${config.ledger}`,
    sk: `${label}/${oldestUnsealed.seconds}s`,
    changedAt: new Date(nowMs).toISOString(),
    streamEventId: '',
    principal: 'auditseal-sealer',
    period: label,
    detail: `period ${label} is not sealed ${Math.round((nowMs - periodEndMs(oldestUnsealed)) / 1000)} s after its end (grace ${config.graceSeconds} s + margin ${margin} s)`,
  };
}
