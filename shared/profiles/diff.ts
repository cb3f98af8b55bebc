/**
 * What changed between two versions, as an RFC 6902 JSON Patch (https://www.rfc-editor.org/rfc/rfc6902)
 * computed by `fast-json-patch` (why that library: docs/PROFILES.md, "Diffs").
 *
 * The patch is taken between the two versions' *states*: the profile members that describe the
 * resource (not `lastModified`, `source`, `relatedEventIds` or `origin`). A member is compared only
 * when both versions know it: an optional member that one of them lacks, and the configuration
 * members when one of them did not receive its configuration, are left out and listed in
 * `notCompared`, so that "not known" never shows up as "removed".
 *
 * Diffs are derived, never hashed or stored: a late item changes which version precedes which in time,
 * and anyone can recompute them from the versions.
 */
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { JsonObject } from '../events/json-guard.ts';
import type { Profile } from './profile.ts';

export type { Operation as PatchOperation } from 'fast-json-patch';

/** Members of the state compared only when both sides have them. */
const OPTIONAL_MEMBERS = ['tags', 'labels', 'policies'] as const;

export type StateMember =
  | 'resourceType'
  | 'tombstone'
  | 'configuration'
  | 'supplementaryConfiguration'
  | 'relationships'
  | (typeof OPTIONAL_MEMBERS)[number];

/** The diff of a version from the one before it in time. */
export interface ProfileDiff {
  /** Chain position of the version compared against, or null for the first version in time. */
  readonly from: number | null;
  /** RFC 6902 operations turning the previous state into this one (empty for the first version). */
  readonly patch: readonly Operation[];
  /** State members not compared because one of the two versions does not know them. */
  readonly notCompared: readonly StateMember[];
}

/** The comparable states of two profiles: only members both know. */
export function comparableStates(
  before: Profile,
  after: Profile,
): { before: JsonObject; after: JsonObject; notCompared: StateMember[] } {
  const a: JsonObject = { resourceType: before.resourceType, tombstone: before.tombstone === true };
  const b: JsonObject = { resourceType: after.resourceType, tombstone: after.tombstone === true };
  const notCompared: StateMember[] = [];
  const bothDelivered =
    before.configurationNotDelivered === undefined && after.configurationNotDelivered === undefined;
  if (bothDelivered) {
    a['configuration'] = before.configuration;
    b['configuration'] = after.configuration;
  } else {
    notCompared.push('configuration');
  }
  for (const member of ['supplementaryConfiguration', 'relationships'] as const) {
    if (bothDelivered && both(before, after, member)) {
      a[member] = before[member]!;
      b[member] = after[member]!;
    } else if (before[member] !== undefined || after[member] !== undefined) {
      notCompared.push(member);
    }
  }
  for (const member of OPTIONAL_MEMBERS) {
    if (both(before, after, member)) {
      a[member] = before[member]!;
      b[member] = after[member]!;
    } else if (before[member] !== undefined || after[member] !== undefined) {
      notCompared.push(member);
    }
  }
  return { before: a, after: b, notCompared };
}

function both(a: Profile, b: Profile, member: keyof Profile): boolean {
  return a[member] !== undefined && b[member] !== undefined;
}

/** The diff from `previous` (the version before in time, or undefined) to `current`. */
export function diffProfiles(
  previous: { readonly n: number; readonly profile: Profile } | undefined,
  current: { readonly profile: Profile },
): ProfileDiff {
  if (previous === undefined) return { from: null, patch: [], notCompared: [] };
  const { before, after, notCompared } = comparableStates(previous.profile, current.profile);
  return { from: previous.n, patch: jsonpatch.compare(before, after), notCompared };
}

/**
 * Applies a patch to a state and returns the new state; the input is not changed. Operations on
 * `__proto__`, `constructor` or `prototype` are refused (`fast-json-patch`'s
 * `banPrototypeModifications`), as is any operation that does not apply.
 */
export function applyStatePatch(state: JsonObject, patch: readonly Operation[]): JsonObject {
  return jsonpatch.applyPatch(state, patch as Operation[], true, false, true).newDocument;
}
