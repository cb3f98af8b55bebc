/**
 * `verify --resource R`: the events (not profile versions) whose `resource.id` is R, found in the
 * archives as the folder verifier reads them, each with whether it is evidence (docs/FORMAT.md, "The
 * verification report"). The verifier hands every chunk it has read to `ResourceEvents` (one byte search
 * first: most chunks do not name R), and once every finding is known, `finish` says of each event:
 *
 * - `verified`: its bytes are a leaf its chunk commits to, under a digest signed by a trusted key that
 *   checks out and that no finding names, and no finding names that event (its chunk and position);
 * - otherwise NOT verified, with the reason: an untrusted digest, a digest with findings, bytes that no
 *   trusted digest commits to (an inserted or edited line), a chunk that cannot be checked, or the codes
 *   of the findings about that event (EVENT_UNSIGNED, EVENT_REORDERED, EVENT_INVALID with --deep, …).
 *
 * A line is found only when its text holds R as JSON writes it (canonical events always do); a line that
 * spells R with other escapes is not listed at all, so it is never shown as evidence either.
 */
import { isPlainObject } from '../events/json-guard.ts';
import { isoSeconds, type Period } from '../ledger/period.ts';
import { hashLeaf } from '../merkle/rfc6962.ts';
import type { Finding } from './findings.ts';
import type { ObservedChunk } from './verify-profiles.ts';

/** Most events of each kind (verified when found, not verified when found) listed in the report. */
export const MAX_LISTED_RESOURCE_EVENTS = 2_000;
/** Longest event id, receivedAt, action or actor id copied into the report; longer ones are left out. */
const MAX_FIELD_CHARS = 256;
const NEWLINE = 0x0a;

/** One event that names the resource, as listed in `resource.events.listed`. */
export interface ResourceEvent {
  readonly ledger: string;
  /** Start of the period whose digest names the chunk, and its length. */
  readonly periodStart: string;
  readonly periodSeconds: number;
  /** The archive chunk's object key. */
  readonly object: string;
  /** The event's position in its period's tree (its sealed position, or where it was found if none). */
  readonly eventIndex: number;
  readonly eventId?: string;
  readonly receivedAt?: string;
  readonly action?: string;
  /** `actor.id`. */
  readonly actor?: string;
  /** Its bytes are a committed leaf of a trusted digest without findings, and no finding names it. */
  readonly verified: boolean;
  /** Why it is not verified (only when `verified` is false). */
  readonly reason?: string;
}

/** `resource.events` in the report of `verify --resource R`. */
export interface ResourceEvents {
  /** Events found whose `resource.id` is R (profile versions aside). */
  readonly found: number;
  /** Of those, how many are verified. */
  readonly verified: number;
  /**
   * In the order found: the first MAX_LISTED_RESOURCE_EVENTS found sealed under a trusted digest and the
   * first MAX_LISTED_RESOURCE_EVENTS found without (so lines no trusted digest commits to are listed
   * however many sealed events come first); with the status established once every finding is known.
   */
  readonly listed: ResourceEvent[];
}

/** One archive chunk as the folder verifier read it (see ProfileChecks' ObservedChunk). */
/** A chunk as the profile checks observe it (ObservedChunk), with the digest it is sealed under. */
export type ResourceEventChunk = ObservedChunk & {
  /** The period the digest is signed for. */
  readonly period: Period;
  /** The digest's object key without its suffix (`digests/…/<start>-<seconds>s`). */
  readonly digestBase: string;
};

/** What is known of an event when its chunk is read: a sealed position, or why there is none. */
interface Found {
  readonly digestBase: string;
  readonly object: string;
  readonly eventIndex: number;
  /** Set when the line is not a committed leaf of a trusted digest. */
  readonly unsealed?: string;
  /** The listed entry, when this event is listed. */
  readonly entry?: Omit<ResourceEvent, 'verified' | 'reason'>;
}

const DIGEST_OBJECT = /^(digests\/.+)\.(?:statement\.json|digest\.json|sig)$/;

/** Collects the events that name one resource, chunk by chunk; see the module comment. */
export class ResourceEventsCollector {
  readonly #id: string;
  /** The id as JSON text writes it: a line without these bytes cannot name the resource. */
  readonly #needle: Buffer;
  readonly #found: Found[] = [];
  #listedSealed = 0;
  #listedUnsealed = 0;

  constructor(resourceId: string) {
    this.#id = resourceId;
    this.#needle = Buffer.from(JSON.stringify(resourceId).slice(1, -1), 'utf8');
  }

  /** Reads the events of one chunk that name the resource. Chunks come in the verifier's order. */
  observeChunk(chunk: ResourceEventChunk): void {
    const { archive } = chunk;
    if (!archive.includes(this.#needle)) return;
    // Committed positions by leaf hash (only for a chunk that differs from its digest entry).
    let positions: Map<string, number[]> | undefined;
    const sealedAt = (line: Buffer, lineNo: number): number | string => {
      if (!chunk.trusted) return "its period's digest is not signed by a trusted key or does not check out";
      if (chunk.clean) return chunk.ref.firstIndex + lineNo;
      if (chunk.committedLeaves === undefined)
        return 'its archive chunk cannot be checked against its digest (no intact index)';
      if (positions === undefined) {
        positions = new Map();
        chunk.committedLeaves.forEach((leaf, i) => {
          const hex = leaf.toString('hex');
          const list = positions!.get(hex);
          if (list === undefined) positions!.set(hex, [i]);
          else list.push(i);
        });
      }
      const free = positions.get(hashLeaf(line).toString('hex'));
      const at = free?.shift();
      if (at === undefined)
        return free === undefined
          ? 'no trusted digest commits to these bytes (a line inserted or edited in the archive)'
          : 'another copy of a sealed event: its one sealed position is taken by an earlier line';
      return chunk.ref.firstIndex + at;
    };
    let start = 0;
    for (let lineNo = 0; start < archive.length; lineNo++) {
      const nl = archive.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const line = archive.subarray(start, nl);
      start = nl + 1;
      if (!line.includes(this.#needle)) continue;
      let value: unknown;
      try {
        value = JSON.parse(line.toString('utf8'));
      } catch {
        continue; // Not JSON: it names nothing; the event checks name the line.
      }
      if (!isPlainObject(value) || !namesResource(value, this.#id)) continue;
      const sealed = sealedAt(line, lineNo);
      const unsealed = typeof sealed === 'string' ? sealed : undefined;
      const eventIndex = typeof sealed === 'number' ? sealed : chunk.ref.firstIndex + lineNo;
      const listed = unsealed === undefined ? this.#listedSealed++ : this.#listedUnsealed++;
      const entry =
        listed < MAX_LISTED_RESOURCE_EVENTS
          ? {
              ledger: chunk.ledger,
              periodStart: isoSeconds(chunk.period.startMs),
              periodSeconds: chunk.period.seconds,
              object: chunk.ref.key,
              eventIndex,
              ...fields(value),
            }
          : undefined;
      this.#found.push({
        digestBase: chunk.digestBase,
        object: chunk.ref.key,
        eventIndex,
        ...(unsealed !== undefined ? { unsealed } : {}),
        ...(entry !== undefined ? { entry } : {}),
      });
    }
  }

  /** Each event's status against every finding of the run; call once, after the last finding. */
  finish(findings: readonly Finding[]): ResourceEvents {
    const digestCodes = new Map<string, Set<string>>();
    const eventCodes = new Map<string, Set<string>>();
    const add = (map: Map<string, Set<string>>, key: string, code: string): void => {
      const known = map.get(key);
      if (known === undefined) map.set(key, new Set([code]));
      else known.add(code);
    };
    for (const f of findings) {
      const digest = DIGEST_OBJECT.exec(f.object);
      if (digest) add(digestCodes, digest[1]!, f.code);
      if (f.eventIndex !== undefined) add(eventCodes, `${f.eventIndex} ${f.object}`, f.code);
    }
    let verified = 0;
    const listed: ResourceEvent[] = [];
    for (const found of this.#found) {
      const reason = reasonOf(found, digestCodes, eventCodes);
      if (reason === undefined) verified++;
      if (found.entry !== undefined)
        listed.push({ ...found.entry, verified: reason === undefined, ...(reason ? { reason } : {}) });
    }
    return { found: this.#found.length, verified, listed };
  }
}

function reasonOf(
  found: Found,
  digestCodes: ReadonlyMap<string, ReadonlySet<string>>,
  eventCodes: ReadonlyMap<string, ReadonlySet<string>>,
): string | undefined {
  if (found.unsealed !== undefined) return found.unsealed;
  const digest = digestCodes.get(found.digestBase);
  if (digest !== undefined) return `its period's digest has findings: ${[...digest].join(', ')}`;
  const event = eventCodes.get(`${found.eventIndex} ${found.object}`);
  if (event !== undefined) return `findings about this event: ${[...event].join(', ')}`;
  return undefined;
}

/** Whether an event (not a profile version) names `id` as its resource. */
function namesResource(e: Record<string, unknown>, id: string): boolean {
  if (e['channel'] === 'profile') return false;
  const resource = e['resource'];
  return isPlainObject(resource) && resource['id'] === id;
}

/** The event's id, time, action and actor, when they are short strings. */
function fields(
  e: Record<string, unknown>,
): Pick<ResourceEvent, 'eventId' | 'receivedAt' | 'action' | 'actor'> {
  const short = (v: unknown): string | undefined =>
    typeof v === 'string' && v.length <= MAX_FIELD_CHARS ? v : undefined;
  const actor = e['actor'];
  const out: { eventId?: string; receivedAt?: string; action?: string; actor?: string } = {};
  const id = short(e['id']);
  if (id !== undefined) out.eventId = id;
  const receivedAt = short(e['receivedAt']);
  if (receivedAt !== undefined) out.receivedAt = receivedAt;
  const action = short(e['action']);
  if (action !== undefined) out.action = action;
  const actorId = isPlainObject(actor) ? short(actor['id']) : undefined;
  if (actorId !== undefined) out.actor = actorId;
  return out;
}
