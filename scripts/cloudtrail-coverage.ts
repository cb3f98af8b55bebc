/**
 * How much real CloudTrail the mapping accepts, and why it rejects the rest.
 *
 *   node --import tsx scripts/cloudtrail-coverage.ts [FILE|DIR ...]
 *
 * A `.jsonl` file holds one CloudTrail record (or EventBridge envelope) per line; a `.json` file holds
 * one; a directory is read for its `.json` files. Defaults: the two permissive record files and the
 * EventBridge envelope folder in ../shared/data/cloudtrail. An input counts as accepted when it maps and
 * its stored form (server members included) is within MAX_EVENT_BYTES. The last line printed is one JSON
 * object of all figures.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSafeNumber } from 'lossless-json';
import { canonicalBytes } from '../shared/canonical/jcs.ts';
import type { AuditEventInput } from '../shared/events/audit-event.ts';
import { normalizeTimestamp, parseAuditEvent } from '../shared/events/audit-event.ts';
import {
  cloudTrailRecordOf,
  fromCloudTrailRecord,
  fromEventBridgeEnvelope,
} from '../shared/events/cloudtrail.ts';
import { CloudTrailMappingError, EventValidationError } from '../shared/events/errors.ts';
import { isLosslessNumber } from '../shared/events/json-text.ts';
import { MAX_EVENT_BYTES } from '../shared/events/limits.ts';

const DATA_DIR = fileURLToPath(new URL('../../shared/data/cloudtrail/', import.meta.url));
const DEFAULT_INPUTS = [
  join(DATA_DIR, 'all_permissive.jsonl'),
  join(DATA_DIR, 'strict_permissive.jsonl'),
  join(DATA_DIR, 'eventbridge'),
];
const SPACE_SEPARATED_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/;

interface FileFigures {
  file: string;
  total: number;
  accepted: number;
  rejected: number;
  rejectionRate: number;
  reasons: Record<string, number>;
  /** Rejected eventTime values written `YYYY-MM-DD hh:mm:ss[.f]` (no T, no zone), as Panther's fixtures are. */
  spaceSeparatedEventTimes: number;
  /** Accepted records whose sourceIPAddress was neither an IP literal nor a host name, so no sourceIp. */
  sourceIpOmitted: number;
  /**
   * Accepted records holding a number JSON.parse would not give back as written (beyond 2^53, an
   * exponent out of a double's range, digits a double drops, `-0`): kept exactly, in the record's text.
   */
  numbersBeyondDoubles: number;
  maxStoredBytes: number;
}

/** Each input of a file or directory, as `[label, text]`. */
function readInputs(path: string): [string, string][] {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => [name, readFileSync(join(path, name), 'utf8')]);
  }
  const text = readFileSync(path, 'utf8');
  if (!path.endsWith('.jsonl')) return [[basename(path), text]];
  return text
    .split('\n')
    .map((line, i): [string, string] => [`line ${i + 1}`, line])
    .filter(([, line]) => line.trim().length > 0);
}

/** Maps one input from its text, as the forwarder and `seal --in` do; `value` only tells an envelope. */
function mapOne(text: string, value: unknown): AuditEventInput {
  const isEnvelope = typeof value === 'object' && value !== null && 'detail-type' in value;
  return isEnvelope ? fromEventBridgeEnvelope(text) : fromCloudTrailRecord(text);
}

function measure(path: string): FileFigures {
  const figures: FileFigures = {
    file: relative(process.cwd(), path) || path,
    total: 0,
    accepted: 0,
    rejected: 0,
    rejectionRate: 0,
    reasons: {},
    spaceSeparatedEventTimes: 0,
    sourceIpOmitted: 0,
    numbersBeyondDoubles: 0,
    maxStoredBytes: 0,
  };
  const reject = (reason: string) => {
    figures.rejected++;
    figures.reasons[reason] = (figures.reasons[reason] ?? 0) + 1;
  };
  for (const [, text] of readInputs(path)) {
    figures.total++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      reject('INVALID_JSON');
      continue;
    }
    try {
      const input = mapOne(text, value);
      const stored = parseAuditEvent({
        ...input,
        v: 1,
        receivedAt: normalizeTimestamp(input.eventTime),
        channel: 'cloudtrail',
      });
      const size = canonicalBytes(stored).length;
      if (size > MAX_EVENT_BYTES) {
        reject('TOO_LARGE');
        continue;
      }
      figures.accepted++;
      figures.maxStoredBytes = Math.max(figures.maxStoredBytes, size);
      if (input.sourceIp === undefined) figures.sourceIpOmitted++;
      if (holdsNumberBeyondDoubles(cloudTrailRecordOf(input))) figures.numbersBeyondDoubles++;
    } catch (error) {
      if (error instanceof CloudTrailMappingError) {
        reject(error.reason);
        const detail = (value as { detail?: unknown }).detail ?? value;
        const time = (detail as { eventTime?: unknown }).eventTime;
        if (
          error.reason === 'BAD_EVENT_TIME' &&
          typeof time === 'string' &&
          SPACE_SEPARATED_TIME.test(time)
        ) {
          figures.spaceSeparatedEventTimes++;
        }
      } else if (error instanceof EventValidationError) {
        reject(error.code);
      } else {
        throw error;
      }
    }
  }
  figures.rejectionRate = figures.total === 0 ? 0 : round(figures.rejected / figures.total);
  return figures;
}

const NEGATIVE_ZERO = /^-0(\.0*)?([eE][+-]?\d+)?$/;

function holdsNumberBeyondDoubles(value: unknown): boolean {
  if (isLosslessNumber(value)) return !isSafeNumber(value.value) || NEGATIVE_ZERO.test(value.value);
  if (Array.isArray(value)) return value.some(holdsNumberBeyondDoubles);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsNumberBeyondDoubles);
  return false;
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

const inputs = process.argv.slice(2);
const files = (inputs.length > 0 ? inputs : DEFAULT_INPUTS).map(measure);
for (const f of files) {
  console.log(
    `${f.file}: ${f.total} inputs, ${f.accepted} accepted, ${f.rejected} rejected (${percent(f.rejectionRate)})`,
  );
  for (const [reason, count] of Object.entries(f.reasons).sort(([, a], [, b]) => b - a)) {
    console.log(`  ${reason.padEnd(24)} ${count}`);
  }
  if (f.spaceSeparatedEventTimes > 0) {
    console.log(`  of which eventTime "YYYY-MM-DD hh:mm:ss[.f]": ${f.spaceSeparatedEventTimes}`);
  }
  console.log(
    `  accepted without sourceIp: ${f.sourceIpOmitted}; largest stored event: ${f.maxStoredBytes} bytes`,
  );
  console.log(`  accepted with numbers a double cannot keep as written: ${f.numbersBeyondDoubles}`);
}
const total = files.reduce((sum, f) => sum + f.total, 0);
const rejected = files.reduce((sum, f) => sum + f.rejected, 0);
console.log(
  JSON.stringify({
    files,
    total,
    accepted: total - rejected,
    rejected,
    rejectionRate: total === 0 ? 0 : round(rejected / total),
    maxEventBytes: MAX_EVENT_BYTES,
  }),
);
