/**
 * Resource chains in the archives (G8, docs/PROFILES.md "Verifying the versions in a folder"): every
 * profile version is also a ledger event of channel `profile`, so the folder verifier hands each archive
 * chunk it has read to `ProfileChecks`, in sealed order, and this module
 *
 * 1. finds the profile events of the chunk (one byte search first: most chunks hold none);
 * 2. checks that each one is the event of the version it carries (`PROFILE_VERSION_MALFORMED`);
 * 3. runs `verifyProfileChains` (shared/profiles/chain.ts) over each ledger's versions, in the order
 *    found: no gap, every `previousHash` matches, one version per position, order and time agree;
 * 4. with a resource asked for (`verify --resource`), keeps only its versions and returns its timeline.
 *
 * Versions are checked as found, and each is marked `sealed` when its event's bytes are a leaf the
 * period's trusted digest commits to. An edit, removal, insertion or reordering in an archive is thus
 * named twice: by the event checks (EVENT_*) and here, by resource and chain position; a chain the
 * writer broke before sealing (signed and sealed as it is) is named only here.
 */

import { type AuditEvent, parseAuditEvent } from '../events/audit-event.ts';
import { EventValidationError } from '../events/errors.ts';
import { isPlainObject } from '../events/json-guard.ts';
import type { ArchiveRef } from '../ledger/formats.ts';
import { hashLeaf } from '../merkle/rfc6962.ts';
import {
  type ChainPosition,
  type FoundVersion,
  type ProfileFinding,
  verifyProfileChains,
} from '../profiles/chain.ts';
import { diffProfiles, type PatchOperation, type StateMember } from '../profiles/diff.ts';
import { VersionDocumentError } from '../profiles/errors.ts';
import {
  PROFILE_VERSION_ID_PREFIX,
  profileEventProblem,
  profileVersionEventId,
} from '../profiles/ledger-event.ts';
import { compareTimeKeys, type ProfileVersion, parseVersionDocument } from '../profiles/version.ts';
import type { Finding } from './findings.ts';

/**
 * The member every profile event has: `parseAuditEvent` (ingest and import alike) accepts channel
 * `profile` only with it, and it only there. One byte search per chunk keeps chunks without profile
 * versions (most of them) nearly free; a line without it is not read further.
 */
const MARKER = Buffer.from('profileVersion', 'utf8');
const NEWLINE = 0x0a;

/** Where a version (or a malformed profile event) was found. */
export interface VersionLocation {
  readonly ledger: string;
  /** The archive chunk's object key. */
  readonly object: string;
  /** Position of the line in its period (the chunk's first index plus the line number, as found). */
  readonly eventIndex: number;
  /** True when the line's bytes are a leaf that the period's trusted digest commits to. */
  readonly sealed: boolean;
}

/** One version of the resource asked for, in time order, with what the verifier established. */
export interface TimelineVersion extends VersionLocation {
  readonly n: number;
  readonly hash: string;
  readonly previousHash: string | null;
  readonly recordedAt: string;
  readonly effectiveAt: string;
  readonly source: string;
  readonly tombstone: boolean;
  readonly configurationDelivered: boolean;
  readonly eventId: string;
  /** Sealed, and no finding names this position. */
  readonly verified: boolean;
  /** RFC 6902 diff from the version before it in time (docs/PROFILES.md, "Diffs"). */
  readonly diff: {
    readonly from: number | null;
    readonly patch: readonly PatchOperation[];
    readonly notCompared: readonly StateMember[];
  };
}

/** `verify --resource R`: R's versions in time order, and whether the chain verified. */
export interface ResourceTimeline {
  readonly resourceId: string;
  /** Ledgers holding versions of R (normally one). */
  readonly ledgers: string[];
  /** Distinct versions found. */
  readonly versions: number;
  /** The highest position found, with its hash. */
  readonly head: ChainPosition | null;
  /** Number of findings about R's chain (their codes start with PROFILE_VERSION_). */
  readonly findings: number;
  /** Every version is sealed and no finding concerns R. */
  readonly verified: boolean;
  readonly timeline: TimelineVersion[];
}

export interface ProfileSummary {
  /** Profile events found in the archives (malformed ones included). */
  readonly versions: number;
  /** Distinct resources with at least one well-formed version. */
  readonly resources: number;
}

export interface ProfileCheckOptions {
  /** `--from`: a chain's first version in range may follow versions before the range. */
  readonly fromMs?: number;
  /** `--resource`: check and report only this resource's chain. */
  readonly resource?: string;
  /** Also return every resource's summary (the auditor's page lists them). */
  readonly listResources?: boolean;
}

/** A resource with profile versions, as the verifier established them (`listResources`). */
export interface ResourceSummary {
  readonly id: string;
  /** Distinct versions found, sealed or not. */
  readonly versions: number;
  /** Distinct versions whose event is a leaf of its period's trusted digest. */
  readonly sealed: number;
  /** Findings about its chain and its malformed profile events (as `verify --resource` counts them). */
  readonly findings: number;
  /** Every version sealed and no finding: what `verify --resource` reports as `verified`. */
  readonly verified: boolean;
}

/** One archive chunk as the folder verifier read it. */
export interface ObservedChunk {
  readonly ledger: string;
  readonly ref: Pick<ArchiveRef, 'key' | 'firstIndex'>;
  readonly archive: Buffer;
  /** The chunk matches its digest entry exactly: every line is a committed leaf. */
  readonly clean: boolean;
  /** The leaves the chunk commits to (from the digest-checked index), when known. */
  readonly committedLeaves: readonly Buffer[] | undefined;
  /** The period's digest is signed by a trusted key and checks out. */
  readonly trusted: boolean;
}

interface FoundEntry {
  readonly version: ProfileVersion;
  readonly eventId: string;
  readonly at: VersionLocation;
}

/** Collects profile events chunk by chunk, then checks every chain once all archives are read. */
export class ProfileChecks {
  readonly #options: ProfileCheckOptions;
  readonly #findings: Finding[] = [];
  /** Per ledger, the versions in the order found. */
  readonly #byLedger = new Map<string, FoundEntry[]>();
  /** With listResources: malformed profile events per resource they mention. */
  readonly #malformedBy = new Map<string, number>();
  #events = 0;

  constructor(options: ProfileCheckOptions = {}) {
    this.#options = options;
  }

  /** Reads the profile events of one chunk. Chunks must come in sealed order (period, then chunk). */
  observeChunk(chunk: ObservedChunk): void {
    const { archive } = chunk;
    if (!archive.includes(MARKER)) return;
    let committed: Set<string> | undefined;
    const isSealed = (line: Buffer): boolean => {
      if (!chunk.trusted) return false;
      if (chunk.clean) return true;
      if (chunk.committedLeaves === undefined) return false;
      committed ??= new Set(chunk.committedLeaves.map((l) => l.toString('hex')));
      return committed.has(hashLeaf(line).toString('hex'));
    };
    let start = 0;
    for (let lineNo = 0; start < archive.length; lineNo++) {
      const nl = archive.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const line = archive.subarray(start, nl);
      start = nl + 1;
      if (!line.includes(MARKER)) continue;
      const at = (): VersionLocation => ({
        ledger: chunk.ledger,
        object: chunk.ref.key,
        eventIndex: chunk.ref.firstIndex + lineNo,
        sealed: isSealed(line),
      });
      this.#observeLine(line, at);
    }
  }

  #observeLine(line: Buffer, at: () => VersionLocation): void {
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8'));
    } catch {
      return; // Not JSON: not a profile event; the event checks (EVENT_*, --deep) cover the line.
    }
    if (!isPlainObject(value)) return;
    const rawId = typeof value['id'] === 'string' ? value['id'] : undefined;
    const claimsProfile =
      value['channel'] === 'profile' ||
      value['profileVersion'] !== undefined ||
      rawId?.startsWith(PROFILE_VERSION_ID_PREFIX) === true;
    if (!claimsProfile) return;
    const wanted = this.#options.resource;
    if (wanted !== undefined && !mentions(value, wanted)) return;
    this.#events++;
    const malformed = (message: string): void => {
      if (this.#options.listResources) {
        for (const id of mentionedIds(value)) this.#malformedBy.set(id, (this.#malformedBy.get(id) ?? 0) + 1);
      }
      const where = at();
      this.#findings.push({
        code: 'PROFILE_VERSION_MALFORMED',
        object: where.object,
        ...(rawId !== undefined && rawId.length <= 128 ? { eventId: rawId } : {}),
        eventIndex: where.eventIndex,
        message: `profile event: ${message}`,
      });
    };
    let event: AuditEvent;
    try {
      event = parseAuditEvent(value);
    } catch (error) {
      if (!(error instanceof EventValidationError)) throw error;
      malformed(`not a valid stored event at ${error.path}: ${error.message}`);
      return;
    }
    if (event.channel !== 'profile' || event.profileVersion === undefined) {
      malformed('a pv: id or a profileVersion outside channel "profile"');
      return;
    }
    let version: ProfileVersion;
    try {
      version = parseVersionDocument(event.profileVersion);
    } catch (error) {
      if (!(error instanceof VersionDocumentError)) throw error;
      malformed(`its profileVersion is not a version document: ${error.message}`);
      return;
    }
    // The document is a valid version: it still takes its place in the chain, so that an envelope that
    // disagrees with it is named once, not again as a missing position.
    const problem = profileEventProblem(event);
    if (problem !== undefined) malformed(`${problem.path} ${problem.message}`);
    if (wanted !== undefined && version.resourceId !== wanted) return;
    const where = at();
    const list = this.#byLedger.get(where.ledger);
    const entry: FoundEntry = { version, eventId: event.id, at: where };
    if (list === undefined) this.#byLedger.set(where.ledger, [entry]);
    else list.push(entry);
  }

  /** Runs the chain checks; call once, after the last chunk. */
  finish(): {
    findings: Finding[];
    summary: ProfileSummary;
    resource?: ResourceTimeline;
    resources?: ResourceSummary[];
  } {
    const findings = [...this.#findings];
    const resources = new Set<string>();
    const chainFindings: Finding[] = [];
    for (const ledger of [...this.#byLedger.keys()].sort()) {
      const found = this.#byLedger.get(ledger)!;
      for (const f of found) resources.add(f.version.resourceId);
      const report = verifyProfileChains(
        found.map((f): FoundVersion => ({ bytes: f.version.bytes })),
        this.#options.fromMs === undefined ? {} : { startsAfter: firstInRange(found) },
      );
      for (const finding of report.findings) {
        const mapped = toFinding(finding, found);
        findings.push(mapped);
        chainFindings.push(mapped);
      }
    }
    const summary = { versions: this.#events, resources: resources.size };
    const wanted = this.#options.resource;
    const listed = this.#options.listResources ? { resources: this.#summaries(chainFindings) } : {};
    if (wanted === undefined) return { findings, summary, ...listed };
    // With a resource asked for, only its events were read: every finding here is about it.
    return {
      findings,
      summary,
      resource: this.#timeline(wanted, chainFindings, this.#findings.length),
      ...listed,
    };
  }

  /** Every resource's distinct versions (by ledger and hash), how many are sealed, and its findings. */
  #summaries(chainFindings: readonly Finding[]): ResourceSummary[] {
    const byResource = new Map<string, { versions: number; sealed: number; findings: number }>();
    const seen = new Set<string>();
    const of = (id: string) => {
      const known = byResource.get(id);
      if (known !== undefined) return known;
      const fresh = { versions: 0, sealed: 0, findings: 0 };
      byResource.set(id, fresh);
      return fresh;
    };
    for (const [ledger, found] of this.#byLedger) {
      for (const f of found) {
        const key = `${ledger} ${f.version.hash}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const s = of(f.version.resourceId);
        s.versions++;
        if (f.at.sealed) s.sealed++;
      }
    }
    for (const f of chainFindings) if (f.resource !== undefined) of(f.resource.id).findings++;
    for (const [id, n] of this.#malformedBy) if (byResource.has(id)) of(id).findings += n;
    return [...byResource]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, s]) => ({ id, ...s, verified: s.findings === 0 && s.sealed === s.versions }));
  }

  #timeline(resourceId: string, chainFindings: readonly Finding[], malformed: number): ResourceTimeline {
    const ledgers = [...this.#byLedger.keys()].sort();
    const seen = new Set<string>();
    const distinct: FoundEntry[] = [];
    for (const ledger of ledgers) {
      for (const f of this.#byLedger.get(ledger)!) {
        const key = `${ledger} ${f.version.hash}`;
        if (seen.has(key)) continue;
        seen.add(key);
        distinct.push(f);
      }
    }
    const flagged = new Set(
      chainFindings.flatMap((f) =>
        f.resource === undefined
          ? []
          : Array.from({ length: f.resource.count ?? 1 }, (_, i) => f.resource!.n + i),
      ),
    );
    const byTime = [...distinct].sort(
      (a, b) => compareTimeKeys(a.version, b.version) || (a.version.hash < b.version.hash ? -1 : 1),
    );
    let head: ChainPosition | null = null;
    for (const f of distinct)
      if (head === null || f.version.n > head.n) head = { n: f.version.n, hash: f.version.hash };
    const timeline = byTime.map((f, i): TimelineVersion => {
      const v = f.version;
      const diff = diffProfiles(i === 0 ? undefined : byTime[i - 1]!.version, v);
      return {
        n: v.n,
        hash: v.hash,
        previousHash: v.previousHash,
        recordedAt: v.recordedAt,
        effectiveAt: v.effectiveAt,
        source: v.profile.source,
        tombstone: v.tombstone,
        configurationDelivered: v.configurationDelivered,
        eventId: f.eventId,
        ...f.at,
        verified: f.at.sealed && !flagged.has(v.n),
        diff: { from: diff.from, patch: diff.patch, notCompared: diff.notCompared },
      };
    });
    const findings = chainFindings.length + malformed;
    return {
      resourceId,
      ledgers: ledgers.filter((l) => this.#byLedger.get(l)!.length > 0),
      versions: distinct.length,
      head,
      findings,
      verified: findings === 0 && timeline.every((t) => t.sealed),
      timeline,
    };
  }
}

/** The resource ids a raw event names, as `mentions` reads them. */
function mentionedIds(value: Record<string, unknown>): string[] {
  const ids: string[] = [];
  const resource = value['resource'];
  if (isPlainObject(resource) && typeof resource['id'] === 'string') ids.push(resource['id']);
  const document = value['profileVersion'];
  const profile = isPlainObject(document) ? document['profile'] : undefined;
  if (
    isPlainObject(profile) &&
    typeof profile['resourceId'] === 'string' &&
    !ids.includes(profile['resourceId'])
  )
    ids.push(profile['resourceId']);
  return ids;
}

/** Whether a raw event names `resourceId` as its resource or its version's resource. */
function mentions(value: Record<string, unknown>, resourceId: string): boolean {
  const resource = value['resource'];
  if (isPlainObject(resource) && resource['id'] === resourceId) return true;
  const document = value['profileVersion'];
  if (!isPlainObject(document)) return false;
  const profile = document['profile'];
  return isPlainObject(profile) && profile['resourceId'] === resourceId;
}

/**
 * With `--from`, each chain's lowest position found starts the run: it may follow versions sealed before
 * the range, which are then trusted as its `previousHash` says (docs/PROFILES.md, the `--from` rule).
 */
function firstInRange(found: readonly FoundEntry[]): Map<string, ChainPosition> {
  const lowest = new Map<string, ProfileVersion>();
  for (const { version } of found) {
    const known = lowest.get(version.resourceId);
    if (known === undefined || version.n < known.n) lowest.set(version.resourceId, version);
  }
  const starts = new Map<string, ChainPosition>();
  for (const [resourceId, v] of lowest) {
    if (v.previousHash !== null) starts.set(resourceId, { n: v.n - 1, hash: v.previousHash });
  }
  return starts;
}

/** A chain finding as a folder finding: the archive object and event it concerns. */
function toFinding(finding: ProfileFinding, found: readonly FoundEntry[]): Finding {
  const resourceId = finding.resourceId!;
  const n = finding.n!;
  const entry = finding.index !== undefined ? found[finding.index]! : locate(found, resourceId, n, finding);
  const evidence =
    finding.expected !== undefined || finding.computed !== undefined
      ? {
          ...(finding.expected !== undefined ? { expected: finding.expected } : {}),
          ...(finding.computed !== undefined ? { computed: finding.computed } : {}),
        }
      : undefined;
  return {
    code: finding.code,
    object: entry.at.object,
    eventId: profileVersionEventId(resourceId, n),
    ...(finding.index !== undefined || entry.version.n === n ? { eventIndex: entry.at.eventIndex } : {}),
    message: `resource ${JSON.stringify(resourceId).slice(0, 300)}: ${finding.message}`,
    ...(evidence ? { evidence } : {}),
    resource: { id: resourceId, n, ...(finding.count !== undefined ? { count: finding.count } : {}) },
  };
}

/**
 * The version a finding without a document index is about: the one at its position (with the hash it
 * gives as computed, when several claim it); for missing positions, the version right after the gap,
 * or else the last one before it.
 */
function locate(found: readonly FoundEntry[], resourceId: string, n: number, f: ProfileFinding): FoundEntry {
  const mine = found.filter((e) => e.version.resourceId === resourceId);
  const at = mine.filter((e) => e.version.n === n);
  const exact = at.find((e) => e.version.hash === f.computed) ?? at[0];
  if (exact !== undefined) return exact;
  const after = n + (f.count ?? 1);
  const next = mine.filter((e) => e.version.n >= after).sort((a, b) => a.version.n - b.version.n)[0];
  if (next !== undefined) return next;
  return [...mine].sort((a, b) => b.version.n - a.version.n)[0]!;
}
