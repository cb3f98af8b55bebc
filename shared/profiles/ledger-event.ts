/**
 * A profile version as a ledger event (G1, G8): each version is also ingested as an event of channel
 * `profile`, through the ingest core, so that signing, sealing and offline verification cover it unchanged.
 * Format and reasons: docs/PROFILES.md ("Versions in the ledger").
 *
 *   { "v": 1, "id": "pv:<hex SHA-256(JCS(["auditseal.profile-version-id.v1", R, n]))>",
 *     "receivedAt": <recordedAt>, "channel": "profile", "eventTime": <profile.lastModified>,
 *     "actor": <the writer>, "action": "profile:PutVersion", "resource": { "id": R, "type": <resourceType> },
 *     "outcome": { "result": "success" }, "profileVersion": <the version document, verbatim> }
 */

import { canonicalString } from '../canonical/jcs.ts';
import type { AuditEvent, AuditEventInput } from '../events/audit-event.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { PROFILE_VERSION_TYPE, type ProfileVersion, type ProfileVersionDocument } from './version.ts';

/** Ids of profile-version events: reserved to channel `profile`. */
export const PROFILE_VERSION_ID_PREFIX = 'pv:';
/** Domain separator of the id hash. */
export const PROFILE_VERSION_ID_TYPE = 'auditseal.profile-version-id.v1';
/** The `action` of every profile-version event. */
export const PROFILE_VERSION_ACTION = 'profile:PutVersion';

/** Who wrote a version: the writer's IAM principal, or the forwarder's identity. */
export type ProfileWriter = AuditEventInput['actor'];

/**
 * The ledger id of version `n` of resource `resourceId`: `pv:` and the hex SHA-256 of the JCS of
 * `["auditseal.profile-version-id.v1", resourceId, n]` (67 characters). Deterministic, so the ledger's id
 * item is the conditional put of position n: the same version again is a duplicate, another version at
 * the same position an `ID_CONFLICT`.
 * @example profileVersionEventId('arn:aws:s3:::b', 1) // 'pv:' + 64 hex digits
 */
export function profileVersionEventId(resourceId: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`invalid version number ${n}`);
  const digest = sha256Hex(canonicalString([PROFILE_VERSION_ID_TYPE, resourceId, n]));
  return `${PROFILE_VERSION_ID_PREFIX}${digest}`;
}

/** The version document of a version, whose JCS is exactly `version.bytes`. */
export function versionDocumentOf(version: ProfileVersion): ProfileVersionDocument {
  return {
    type: PROFILE_VERSION_TYPE,
    n: version.n,
    recordedAt: version.recordedAt,
    previousHash: version.previousHash,
    profile: version.profile,
  };
}

/**
 * The event item that carries `version` into the ledger, for `ingestBatch` with channel `profile` and a
 * clock that reads `version.recordedAt` (the stored event's `receivedAt` must be the version's time).
 */
export function profileVersionEvent(version: ProfileVersion, actor: ProfileWriter): AuditEventInput {
  const { profile } = version;
  return {
    id: profileVersionEventId(version.resourceId, version.n),
    eventTime: profile.lastModified,
    actor: { ...actor },
    action: PROFILE_VERSION_ACTION,
    resource: { id: profile.resourceId, type: profile.resourceType },
    outcome: { result: 'success' },
    profileVersion: versionDocumentOf(version),
  };
}

/** Where a profile-version event disagrees with the version it carries. */
export interface ProfileEventProblem {
  /** JSON path in the event. */
  readonly path: string;
  readonly message: string;
}

/**
 * Checks that an event of channel `profile` is the event of the version it carries: its `profileVersion`
 * is present (the stored schema has already validated it), its id is `pv:H(R, n)`, `resource` is the
 * profile's id and type, `eventTime` is `profile.lastModified`, `action` and `outcome` are the fixed
 * ones, and (when given, as for a stored event) `receivedAt` is `recordedAt`. Returns the first problem,
 * or undefined. Used by the ingest core before anything is written; the verifier applies the same rules
 * to sealed events. Messages never echo input values.
 */
export function profileEventProblem(
  event: Pick<AuditEventInput, 'id' | 'eventTime' | 'action' | 'resource' | 'outcome' | 'profileVersion'> & {
    readonly receivedAt?: AuditEvent['receivedAt'];
  },
): ProfileEventProblem | undefined {
  const document = event.profileVersion;
  if (document === undefined) {
    return { path: '$.profileVersion', message: 'events of channel "profile" must carry a profileVersion' };
  }
  const { profile } = document;
  if (event.id !== profileVersionEventId(profile.resourceId, document.n)) {
    return { path: '$.id', message: 'must be the id of the version it carries (pv:H(resourceId, n))' };
  }
  if (
    event.resource === undefined ||
    event.resource.id !== profile.resourceId ||
    event.resource.type !== profile.resourceType ||
    event.resource.name !== undefined
  ) {
    return { path: '$.resource', message: "must be the profile's resourceId and resourceType" };
  }
  if (event.eventTime !== profile.lastModified) {
    return { path: '$.eventTime', message: "must be the profile's lastModified, as stored" };
  }
  if (event.action !== PROFILE_VERSION_ACTION) {
    return { path: '$.action', message: `must be "${PROFILE_VERSION_ACTION}"` };
  }
  if (event.outcome.result !== 'success' || Object.keys(event.outcome).length !== 1) {
    return { path: '$.outcome', message: 'must be {"result":"success"}' };
  }
  if (event.receivedAt !== undefined && event.receivedAt !== document.recordedAt) {
    return { path: '$.receivedAt', message: "must be the version's recordedAt" };
  }
  return undefined;
}
