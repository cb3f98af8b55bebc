/**
 * Recognizes a row INSERTed into the ledger table as one the service wrote (G5): every ledger row the
 * service writes can be checked against a signature, so a row that is not backed by one was written by
 * someone else and raises a FOREIGN_ROW alarm within one stream batch.
 *
 * - event rows (`EV#`): a trusted signed batch of the period lists the row's id, time and leaf hash;
 * - id rows (`ID#`): the receipt inside verifies and names the row's id;
 * - batch rows (`BA#`): the statement is signed by a trusted key and its leaves reproduce the signed root;
 *   abandon rows beside them carry an abandon statement a trusted key signed for that very batch;
 * - seal-registry rows (`SE#`): the signed statement of the period in the bucket backs the row;
 * - genesis (`LG#`) and close markers (`CL#`): they name periods that have begun (genesis) or are due
 *   for sealing (close markers);
 * - alert index rows (`DA#`): the receipt inside verifies, names the row's alert id and time, and signs
 *   the row's body, which is a detection alert of the row's rule and level;
 * - profile version rows (`PV#`): the ledger event they name (`pv:H(R, n)`) exists, its receipt verifies and
 *   signs its bytes, and the version document it carries is the one the row holds (version and time rows)
 *   or has the row's content hash, position and hash (content rows);
 * - security signals (`SG#`) and alarms (`AL#`) are evidence the service writes unsigned by design.
 * Any other key is foreign.
 */
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { parseCanonicalText } from '../../shared/canonical/jcs.ts';
import { checkAbandon, checkSignedBatch } from '../../shared/ledger/batch-check.ts';
import { checkReceipt, type KeyLookup } from '../../shared/ledger/batch-receipts.ts';
import { batchStatementSchema, digestStatementSchema } from '../../shared/ledger/formats.ts';
import { digestObjectKey } from '../../shared/ledger/object-keys.ts';
import {
  isoSeconds,
  type Period,
  parseCompactLabel,
  periodEndMs,
  periodOf,
} from '../../shared/ledger/period.ts';
import { hashLeaf } from '../../shared/merkle/rfc6962.ts';
import { verifyStatementSignature } from '../../shared/platform/statement-signature.ts';
import type { BatchSeal, StoredEvent } from '../../shared/ports/ledger-store.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { parseVersionDocument } from '../../shared/profiles/version.ts';
import { parseAlertIndexItem } from './alert-index.ts';
import { type Item, parseAbandonItem, parseBatchItem, parsePeriodItem } from './ledger-items.ts';

const ABANDON_SUFFIX = '#abandon';

import { parseProfileVersionItem, profilePartitionKey } from './profile-store.ts';

export interface RowRecognizerOptions {
  readonly ledger: string;
  readonly periodSeconds: number;
  readonly graceSeconds: number;
  readonly keys: () => Promise<KeyLookup>;
  /** Reads a batch row back (event rows are checked against their batch). */
  readonly getBatch: (period: Period, receivedAt: string, batchId: string) => Promise<Item | undefined>;
  readonly objects: ObjectStore;
  readonly clock: () => Date;
  /**
   * Reads an event back by id (profile version rows are checked against the event that carries them).
   * Without it, every profile version row is foreign.
   */
  readonly getEvent?: (id: string) => Promise<StoredEvent | undefined>;
}

/** Returns why an inserted row is not one the service wrote, or undefined when it is recognized. */
export type RowRecognizer = (image: Item) => Promise<string | undefined>;

export function createRowRecognizer(options: RowRecognizerOptions): RowRecognizer {
  const batchCache = new Map<string, BatchSeal | string>();
  const { ledger } = options;

  const trustedBatch = async (
    period: Period,
    receivedAt: string,
    batchId: string,
  ): Promise<BatchSeal | string> => {
    const cacheKey = `${period.startMs}#${receivedAt}#${batchId}`;
    const cached = batchCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const item = await options.getBatch(period, receivedAt, batchId);
    let result: BatchSeal | string;
    if (!item) result = `no batch row ${batchId} backs it`;
    else {
      const parsed = parseBatchItem(ledger, item).row;
      if ('malformed' in parsed) result = `its batch row is malformed: ${parsed.reason}`;
      else if (parsed.batchId !== batchId || parsed.receivedAt !== receivedAt) {
        result = `no batch row ${batchId} backs it`;
      } else {
        const check = await checkSignedBatch(parsed, { ledger, period, keys: await options.keys() });
        result = check.ok ? parsed : `its batch ${batchId} is not trusted: ${check.reason}`;
      }
    }
    if (batchCache.size > 1000) batchCache.clear();
    batchCache.set(cacheKey, result);
    return result;
  };

  /** An abandon row (`<receivedAt>#<batchId>#abandon`): its statement is signed for its trusted batch. */
  const abandonRowProblem = async (period: Period, image: Item): Promise<string | undefined> => {
    const abandon = parseAbandonItem(image);
    const m = abandon
      ? /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)#([A-Za-z0-9_-]{1,64})$/.exec(abandon.batchSk)
      : null;
    if (!abandon || !m) return 'not an abandon row';
    const batch = await trustedBatch(period, m[1]!, m[2]!);
    if (typeof batch === 'string') return `abandon row: ${batch}`;
    const check = await checkAbandon(
      abandon.abandon,
      { statementText: batch.statement, statement: batchStatementSchema.parse(JSON.parse(batch.statement)) },
      await options.keys(),
    );
    return check.ok ? undefined : `abandon row of batch ${m[2]}: ${check.reason}`;
  };

  return async (image) => {
    const pk = image['pk']?.S ?? '';
    const sk = image['sk']?.S ?? '';
    const nowMs = options.clock().getTime();
    const parts = pk.split('#');
    if (parts[1] !== ledger) return `row ${pk} does not belong to ledger ${ledger}`;
    switch (parts[0]) {
      case 'EV': {
        const period = periodOfLabel(parts[2], options.periodSeconds);
        if (!period) return 'its partition names no period';
        const parsed = parsePeriodItem(image).row;
        if ('malformed' in parsed) return `not an event row: ${parsed.reason}`;
        if (!parsed.batchId) return 'it names no batch';
        const batch = await trustedBatch(period, parsed.receivedAt, parsed.batchId);
        if (typeof batch === 'string') return batch;
        const leaf = batch.leaves.find((l) => l.eventId === parsed.id);
        if (!leaf) return `batch ${parsed.batchId} does not sign event ${parsed.id}`;
        if (!hashLeaf(parsed.bytes).equals(leaf.leafHash))
          return `its bytes are not the ones batch ${parsed.batchId} signed`;
        return undefined;
      }
      case 'ID': {
        const id = pk.slice(`ID#${ledger}#`.length);
        const text = image['receipt']?.S;
        if (sk !== 'ID' || text === undefined) return 'not an id row';
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return 'its receipt is not JSON';
        }
        const check = checkReceipt(value, await options.keys());
        if (!check.ok) return `its receipt does not verify: ${check.code}`;
        if (check.receipt.eventId !== id) return `its receipt names event ${check.receipt.eventId}`;
        return undefined;
      }
      case 'BA': {
        const period = periodOfLabel(parts[2], options.periodSeconds);
        if (!period) return 'its partition names no period';
        if (sk.endsWith(ABANDON_SUFFIX)) return abandonRowProblem(period, image);
        const parsed = parseBatchItem(ledger, image).row;
        if ('malformed' in parsed) return `not a batch row: ${parsed.reason}`;
        const check = await checkSignedBatch(parsed, { ledger, period, keys: await options.keys() });
        return check.ok ? undefined : `batch ${parsed.batchId} is not trusted: ${check.reason}`;
      }
      case 'SE': {
        const m = /^(\d{8}T\d{6}Z)-(\d+)s$/.exec(sk);
        const startMs = m ? parseCompactLabel(m[1]!) : undefined;
        if (!m || startMs === undefined) return 'its sort key names no period';
        const period = { startMs, seconds: Number(m[2]) };
        return sealRowProblem(options.objects, ledger, period, image, await options.keys(), nowMs);
      }
      case 'LG': {
        const m = /^(\d{8}T\d{6}Z)-(\d+)s$/.exec(image['period']?.S ?? '');
        const startMs = m ? parseCompactLabel(m[1]!) : undefined;
        if (sk !== 'GENESIS' || startMs === undefined) return 'not a genesis row';
        return startMs > nowMs ? 'the genesis names a period that has not begun' : undefined;
      }
      case 'CL': {
        const m = /^(\d{8}T\d{6}Z)-(\d+)s$/.exec(sk);
        const startMs = m ? parseCompactLabel(m[1]!) : undefined;
        if (!m || startMs === undefined) return 'not a close marker';
        const period = { startMs, seconds: Number(m[2]) };
        return periodEndMs(period) + options.graceSeconds * 1000 > nowMs + 5_000
          ? `it closes period ${isoSeconds(startMs)} before it is due for sealing`
          : undefined;
      }
      case 'DA':
        return alertRowProblem(image, await options.keys());
      case 'PV':
        return profileRowProblem(ledger, image, options.getEvent, await options.keys());
      case 'SG':
      case 'AL':
        return undefined;
      default:
        return `rows of kind ${parts[0] || '(none)'} are not ledger rows`;
    }
  };
}

function periodOfLabel(label: string | undefined, seconds: number): Period | undefined {
  const startMs = label === undefined ? undefined : parseCompactLabel(label);
  if (startMs === undefined) return undefined;
  const period = periodOf(startMs, seconds);
  return period.startMs === startMs ? period : undefined;
}

async function sealRowProblem(
  objects: ObjectStore,
  ledger: string,
  period: Period,
  image: Item,
  keys: KeyLookup,
  nowMs: number,
): Promise<string | undefined> {
  if (periodEndMs(period) > nowMs) return 'it seals a period that has not ended';
  const statementBytes = await objects.get(digestObjectKey(ledger, period, 'statement'));
  const signature = await objects.get(digestObjectKey(ledger, period, 'signature'));
  if (!statementBytes || !signature) return 'no signed statement backs it';
  const statement = parseCanonicalText(Buffer.from(statementBytes).toString('utf8'), digestStatementSchema);
  if (!statement) return 'the statement of its period is not a canonical digest statement';
  const key = keys.get(statement.keyId);
  if (!key || !(await verifyStatementSignature(key.key, statementBytes, signature)))
    return 'the statement of its period is not signed by a trusted key';
  const hash = createHash('sha256').update(statementBytes).digest('hex');
  const attr = (name: string): AttributeValue | undefined => image[name];
  if (attr('statementSha256')?.S !== hash || attr('digestKey')?.S !== statement.digestKey) {
    return 'it does not match the signed statement of its period';
  }
  return undefined;
}

/** Why an alert index row is not one the detection function wrote, or undefined. */
function alertRowProblem(image: Item, keys: KeyLookup): string | undefined {
  const alert = parseAlertIndexItem(image);
  if (typeof alert === 'string') return alert;
  const check = checkReceipt(alert.receipt, keys);
  if (!check.ok) return `its receipt does not verify: ${check.code}`;
  if (check.receipt.eventId !== alert.alertId || check.receipt.receivedAt !== alert.receivedAt) {
    return 'its receipt names another alert';
  }
  if (hashLeaf(alert.bytes).toString('hex') !== check.receipt.leafHash) {
    return 'its body is not the alert its receipt signs';
  }
  let event: unknown;
  try {
    event = JSON.parse(Buffer.from(alert.bytes).toString('utf8'));
  } catch {
    return 'its body is not JSON';
  }
  const e = event as { channel?: unknown; details?: { rule?: { id?: unknown; level?: unknown } } };
  if (e.channel !== 'detection') return 'its body is not a detection alert';
  if (e.details?.rule?.id !== alert.ruleId || e.details.rule.level !== alert.level) {
    return 'its rule id or level is not the one its alert names';
  }
  return undefined;
}

/**
 * Why a profile version row is not one the ledger wrote with its event, or undefined. The row's version is
 * taken from the event it names: a signed `profile` event (receipt checked here; the event row itself is
 * checked against its batch when it is inserted) whose version document is the row's.
 */
async function profileRowProblem(
  ledger: string,
  image: Item,
  getEvent: RowRecognizerOptions['getEvent'],
  keys: KeyLookup,
): Promise<string | undefined> {
  const sk = image['sk']?.S ?? '';
  const eventId = image['eventId']?.S;
  if (eventId === undefined || !/^(N|T|C)#/.test(sk)) return 'not a profile version row';
  if (getEvent === undefined) return 'profile version rows cannot be checked here';
  const stored = await getEvent(eventId);
  if (stored === undefined) return `no ledger event ${eventId} carries it`;
  const check = checkReceipt(stored.receipt, keys);
  if (!check.ok) return `the receipt of its event does not verify: ${check.code}`;
  if (
    check.receipt.eventId !== eventId ||
    hashLeaf(stored.bytes).toString('hex') !== check.receipt.leafHash
  ) {
    return 'its event is not the one its receipt signs';
  }
  let carried: ReturnType<typeof parseVersionDocument>;
  try {
    const event = JSON.parse(Buffer.from(stored.bytes).toString('utf8')) as Record<string, unknown>;
    if (event['channel'] !== 'profile' || event['id'] !== eventId)
      return 'its event is not a profile version';
    carried = parseVersionDocument(event['profileVersion']);
  } catch {
    return 'its event carries no valid version document';
  }
  if (profilePartitionKey(ledger, carried.resourceId) !== image['pk']?.S) {
    return 'its partition is not the resource of its event';
  }
  if (sk.startsWith('C#')) {
    const matches =
      sk === `C#${carried.contentHash}` &&
      image['n']?.N === String(carried.n) &&
      image['hash']?.S === carried.hash;
    return matches ? undefined : 'it does not name the content of its event';
  }
  const version = parseProfileVersionItem(ledger, image);
  if (typeof version === 'string') return version;
  return version.hash === carried.hash ? undefined : 'its version is not the one its event carries';
}
