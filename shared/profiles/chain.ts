/**
 * Offline verification of resource chains (G8): given the version documents found (for example in
 * sealed archives), in the order they were found, check per resource that no version is missing,
 * every `previousHash` matches the version before, and the chain order agrees with arrival and with
 * `recordedAt`. Each kind of failure has its own code; each finding names the resource and position.
 *
 * What the chain alone cannot see, and what closes the gap (docs/PROFILES.md, "Verifying a chain"):
 * an edit of the newest version, or versions removed from the end, or a whole chain rebuilt with fresh
 * hashes. A trusted `anchor` (the head's position and hash, from a receipt or a sealed digest) covers
 * the first two; sealing every version into the ledger covers all three.
 */
import { VersionDocumentError } from './errors.ts';
import { type ProfileVersion, parseVersionBytes } from './version.ts';

/** The closed set of chain finding codes (docs/PROFILES.md, "Verifying a chain"). */
export const PROFILE_FINDING_CODES = [
  /** Bytes that are not a canonical, schema-valid version document. */
  'PROFILE_VERSION_MALFORMED',
  /** A version's bytes no longer hash to what its successor (or its stored hash, or the anchor) commits to. */
  'PROFILE_VERSION_MODIFIED',
  /** Chain positions are missing: at the start, in the middle, or before the anchor. */
  'PROFILE_VERSION_REMOVED',
  /** A version that the chain does not link: a second version at a taken position, or one beyond the anchor. */
  'PROFILE_VERSION_INSERTED',
  /** The same version (same bytes) found more than once. */
  'PROFILE_VERSION_DUPLICATED',
  /** A version found after a version with a higher position. */
  'PROFILE_VERSION_REORDERED',
  /** A well-linked chain whose `recordedAt` does not increase with `n`. */
  'PROFILE_VERSION_TIME_REVERSED',
] as const;
export type ProfileFindingCode = (typeof PROFILE_FINDING_CODES)[number];

export interface ProfileFinding {
  readonly code: ProfileFindingCode;
  /** Absent only for a malformed document, whose resource is unknown. */
  readonly resourceId?: string;
  /** The chain position concerned (the first missing one for `REMOVED`). */
  readonly n?: number;
  /** For `REMOVED`: how many positions are missing. */
  readonly count?: number;
  /** Index of the document in the input, when the finding is about one document. */
  readonly index?: number;
  /** Evidence: the hash that was committed to, and the one computed from the bytes. */
  readonly expected?: string;
  readonly computed?: string;
  readonly message: string;
}

/** One document as found, with the hash stored beside it when there is one. */
export interface FoundVersion {
  readonly bytes: Uint8Array;
  readonly claimedHash?: string;
}

/** A trusted position of a chain: its version n and that version's hash. */
export interface ChainPosition {
  readonly n: number;
  readonly hash: string;
}

export interface VerifyChainOptions {
  /**
   * Per resource, the trusted head: the newest version must be exactly this one. Catches an edited
   * newest version, versions removed from the end and versions appended after it.
   */
  readonly anchors?: ReadonlyMap<string, ChainPosition>;
  /**
   * Per resource, the last trusted version before the documents given (a range-limited run); the
   * first document must then follow it. Without it, every chain must start at n = 1.
   */
  readonly startsAfter?: ReadonlyMap<string, ChainPosition>;
}

export interface ChainSummary {
  readonly resourceId: string;
  /** Distinct versions found. */
  readonly versions: number;
  /** The newest version of the chain as rebuilt (the highest position). */
  readonly head: ChainPosition | undefined;
}

export interface ChainReport {
  readonly findings: readonly ProfileFinding[];
  readonly chains: readonly ChainSummary[];
}

interface Found {
  readonly version: ProfileVersion;
  readonly index: number;
}

/** Verifies every resource chain in `found` (documents of several resources may be interleaved). */
export function verifyProfileChains(
  found: Iterable<FoundVersion>,
  options: VerifyChainOptions = {},
): ChainReport {
  const findings: ProfileFinding[] = [];
  const byResource = new Map<string, Found[]>();
  let index = 0;
  for (const entry of found) {
    const at = index++;
    let version: ProfileVersion;
    try {
      version = parseVersionBytes(entry.bytes);
    } catch (error) {
      if (!(error instanceof VersionDocumentError)) throw error;
      findings.push({ code: 'PROFILE_VERSION_MALFORMED', index: at, message: error.message });
      continue;
    }
    if (entry.claimedHash !== undefined && entry.claimedHash !== version.hash) {
      findings.push({
        code: 'PROFILE_VERSION_MODIFIED',
        resourceId: version.resourceId,
        n: version.n,
        index: at,
        expected: entry.claimedHash,
        computed: version.hash,
        message: `version ${version.n} does not match its stored hash`,
      });
    }
    const list = byResource.get(version.resourceId);
    if (list === undefined) byResource.set(version.resourceId, [{ version, index: at }]);
    else list.push({ version, index: at });
  }
  const chains: ChainSummary[] = [];
  for (const [resourceId, list] of byResource) {
    chains.push(
      verifyOneChain(
        resourceId,
        list,
        options.anchors?.get(resourceId),
        options.startsAfter?.get(resourceId),
        findings,
      ),
    );
  }
  return { findings, chains };
}

function verifyOneChain(
  resourceId: string,
  list: readonly Found[],
  anchor: ChainPosition | undefined,
  startsAfter: ChainPosition | undefined,
  findings: ProfileFinding[],
): ChainSummary {
  const finding = (f: Omit<ProfileFinding, 'resourceId'>) => findings.push({ resourceId, ...f });

  // 1. Order as found: a position lower than one already seen arrived out of order.
  let highest = 0;
  for (const { version, index } of list) {
    if (version.n < highest) {
      finding({
        code: 'PROFILE_VERSION_REORDERED',
        n: version.n,
        index,
        message: `version ${version.n} was found after version ${highest}`,
      });
    }
    highest = Math.max(highest, version.n);
  }

  // 2. One version per position: exact repeats are duplicates; of different versions at one position,
  //    the one the next version links to (or the anchor names) is the chain's, the others inserted.
  const byN = new Map<number, Found[]>();
  for (const entry of list) {
    const same = byN.get(entry.version.n);
    if (same === undefined) byN.set(entry.version.n, [entry]);
    else if (same.some((s) => s.version.hash === entry.version.hash)) {
      finding({
        code: 'PROFILE_VERSION_DUPLICATED',
        n: entry.version.n,
        index: entry.index,
        message: `version ${entry.version.n} appears more than once`,
      });
    } else same.push(entry);
  }
  const positions = [...byN.keys()].sort((a, b) => a - b);
  const chain = new Map<number, ProfileVersion>();
  for (const n of positions) {
    const candidates = byN.get(n)!;
    const linkedBy = new Set((byN.get(n + 1) ?? []).map((f) => f.version.previousHash));
    if (anchor?.n === n) linkedBy.add(anchor.hash);
    const kept = candidates.find((c) => linkedBy.has(c.version.hash)) ?? candidates[0]!;
    chain.set(n, kept.version);
    for (const other of candidates) {
      if (other === kept) continue;
      finding({
        code: 'PROFILE_VERSION_INSERTED',
        n,
        index: other.index,
        computed: other.version.hash,
        message: `a second version claims position ${n}, and the chain does not link it`,
      });
    }
  }

  // 3. The anchor: nothing beyond it, nothing missing before it, and its hash.
  if (anchor !== undefined) {
    for (const n of positions) {
      if (n <= anchor.n) continue;
      const beyond = chain.get(n)!;
      chain.delete(n);
      finding({
        code: 'PROFILE_VERSION_INSERTED',
        n,
        computed: beyond.hash,
        message: `version ${n} is beyond the trusted head (version ${anchor.n})`,
      });
    }
    const atAnchor = chain.get(anchor.n);
    if (atAnchor !== undefined && atAnchor.hash !== anchor.hash) {
      finding({
        code: 'PROFILE_VERSION_MODIFIED',
        n: anchor.n,
        expected: anchor.hash,
        computed: atAnchor.hash,
        message: `version ${anchor.n} does not match the trusted head`,
      });
    }
  }

  // 4. Walk positions: gaps are removals; each link must match; recorded times must increase.
  let previous: ChainPosition & { recordedAt?: string } = startsAfter ?? { n: 0, hash: '' };
  const headN = positions.filter((n) => chain.has(n)).at(-1) ?? 0;
  const last = anchor?.n ?? headN;
  for (let n = previous.n + 1; n <= last; ) {
    const version = chain.get(n);
    if (version === undefined) {
      let next = n + 1;
      while (next <= last && !chain.has(next)) next++;
      finding({
        code: 'PROFILE_VERSION_REMOVED',
        n,
        count: next - n,
        message: next - n === 1 ? `version ${n} is missing` : `versions ${n} to ${next - 1} are missing`,
      });
      n = next;
      if (n <= last) previous = chain.get(n)!;
      n++;
      continue;
    }
    const linked = n === 1 ? version.previousHash === null : version.previousHash === previous.hash;
    if (!linked && n > 1) {
      finding({
        code: 'PROFILE_VERSION_MODIFIED',
        n: n - 1,
        expected: version.previousHash ?? undefined,
        computed: previous.hash,
        message: `version ${n - 1} does not match the hash that version ${n} commits to`,
      });
    }
    if (previous.recordedAt !== undefined && version.recordedAt <= previous.recordedAt) {
      finding({
        code: 'PROFILE_VERSION_TIME_REVERSED',
        n,
        message: `version ${n} was recorded at or before version ${n - 1}`,
      });
    }
    previous = version;
    n++;
  }
  const head = chain.get(headN);
  return { resourceId, versions: chain.size, head: head && { n: head.n, hash: head.hash } };
}
