/**
 * The closed set of verification findings (docs/FORMAT.md §Finding codes). Codes are stable: tools and
 * auditors match on them. Every finding names the object it is about, and the event where there is one.
 */

export const FINDING_CODES = {
  DIGEST_INCOMPLETE: 'a digest, its statement or its signature object is missing',
  DIGEST_MALFORMED: 'a digest or statement does not parse, is not canonical, or is internally inconsistent',
  DIGEST_MODIFIED: 'the digest bytes do not match the SHA-256 in its signed statement',
  DIGEST_MOVED: 'a digest sits under a key other than the one its signed statement names',
  SIGNATURE_INVALID: 'a statement signature does not verify with the key it names',
  KEY_UNKNOWN: 'a statement is signed by a key that is not in the trusted set',
  KEY_OUTSIDE_WINDOW:
    'a statement is signed by a trusted key for a period that ended after a trusted key record says the key was replaced',
  CHAIN_BROKEN: 'a digest does not link to the digest of the previous period',
  CHAIN_START_MISSING: 'the chain does not start at its first digest (sequence 0) and no --from was given',
  PERIOD_MISSING: 'a period in the verified range has no digest',
  PERIOD_OVERLAP: 'two digests of one ledger cover overlapping periods',
  ROOT_MISMATCH: 'the archives do not reproduce the Merkle root and size in the signed statement',
  ARCHIVE_MISSING: 'an archive chunk named by a digest is missing',
  ARCHIVE_TRUNCATED:
    'an archive chunk is shorter than its digest says; the events present are an exact prefix',
  ARCHIVE_TRAILING_DATA: 'an archive chunk has bytes after the events its digest commits to',
  ARCHIVE_MALFORMED: 'an archive chunk is not a sequence of newline-terminated JSON events',
  ARCHIVE_UNREFERENCED: 'an object under archives/ is not named by any digest in the range',
  INDEX_MISSING: 'the index object of an archive chunk is missing',
  INDEX_MODIFIED: 'the index object of an archive chunk does not match the SHA-256 in its digest',
  EVENT_MODIFIED: 'an event is present but its bytes differ from the sealed bytes',
  EVENT_DELETED: 'a sealed event is missing from its archive chunk',
  EVENT_INSERTED: 'an archive chunk holds an event that was never sealed',
  EVENT_DUPLICATED: 'an event id occurs more than once in an archive chunk',
  EVENT_REORDERED: 'sealed events appear in a different order than sealed',
  EVENT_INVALID: 'an archived event is not a canonical, schema-valid event (--deep)',
  EVENT_OUT_OF_PERIOD: 'an archived event was received outside its period (--deep)',
  RECEIPT_MALFORMED: 'a receipt file does not parse as a receipt',
  RECEIPT_KEY_UNKNOWN: 'a receipt is signed by a key that is not in the trusted set',
  RECEIPT_SIGNATURE_INVALID: 'a receipt signature does not verify',
  RECEIPT_PROOF_INVALID: 'a receipt audit path does not lead to its signed batch root',
  RECEIPT_NOT_SEALED: 'a valid receipt names an event that is not in the sealed period it belongs to',
  OBJECT_UNEXPECTED: 'an object under digests/ or archives/ does not fit the key layout',
  RECEIPT_EVENT_MISMATCH:
    'a receipt names an event id or leaf that differs from the sealed event it is matched to',
  BATCH_FILE_MISSING: 'a batch-record file or the exclusions file named by a digest is missing',
  BATCH_FILE_MODIFIED:
    'a batch-record file or the exclusions file does not match the size and SHA-256 in its digest',
  BATCH_INVALID:
    'an archived batch record is malformed, signed by an untrusted key, badly signed, outside its period, or its leaves do not reproduce its signed root',
  EVENT_UNSIGNED: 'a sealed event is not a leaf of any trusted, signed ingest batch of its period',
  BATCH_LEAF_MISSING: 'an event signed at ingest is not among the sealed events of its period',
  EVENT_ID_REUSED: 'two sealed events carry the same event id',
  EVENT_ORDER_INVALID: 'sealed events are not in period order (receivedAt, then id)',
  EVENT_EXCLUDED:
    'the sealer left a stored row out of the period (edited, unsigned, duplicated or malformed)',
  OBJECT_NOT_REGULAR:
    'an object is a symbolic link, FIFO, device, socket or folder, not a regular file; it is not read and counts as absent',
  LEDGER_TRUNCATED:
    'the folder ends before the signed head given with --head: its newest periods are missing',
  HEAD_MISMATCH:
    'the folder holds the period of the signed head given with --head, with a different statement',
  PROFILE_VERSION_MALFORMED:
    'a sealed event of channel "profile" is not the event of a valid version document (its id, resource, times or document)',
  PROFILE_VERSION_MODIFIED:
    "a profile version no longer hashes to what the next version's previousHash commits to",
  PROFILE_VERSION_REMOVED: "positions of a resource's profile chain are missing",
  PROFILE_VERSION_INSERTED: 'a second profile version claims a position the chain does not link it to',
  PROFILE_VERSION_DUPLICATED: 'the same profile version (same bytes) is found more than once',
  PROFILE_VERSION_REORDERED: 'a profile version is found after a version with a higher position',
  PROFILE_VERSION_TIME_REVERSED: "a resource's versions are linked, but recordedAt does not increase with n",
} as const;

export type FindingCode = keyof typeof FINDING_CODES;

/** One problem found by the verifier. */
export interface Finding {
  readonly code: FindingCode;
  /** The object key (path below DIR) the finding is about. */
  readonly object: string;
  /** The event id, where the finding is about one event and its id is known. */
  readonly eventId?: string;
  /** Position of the event in its period's tree, where known. */
  readonly eventIndex?: number;
  readonly message: string;
  /** Expected and computed values (hashes, sizes), for the report. */
  readonly evidence?: { readonly expected?: string; readonly computed?: string };
  /** For a run of missing periods (PERIOD_MISSING, LEDGER_TRUNCATED): one finding for the whole run. */
  readonly periods?: PeriodRun;
  /**
   * For PROFILE_VERSION_* chain findings: the resource, the chain position concerned (the first missing
   * one for REMOVED) and, for REMOVED, how many positions are missing.
   */
  readonly resource?: { readonly id: string; readonly n: number; readonly count?: number };
}

/** A run of consecutive periods, reported as one finding so that a report stays linear in the objects. */
export interface PeriodRun {
  /** Start of the first and of the last period of the run (RFC 3339, whole seconds). */
  readonly first: string;
  readonly last: string;
  readonly count: number;
  readonly seconds: number;
}
