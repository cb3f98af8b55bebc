/**
 * The EventBridge forwarder's core: every envelope the forwarder's queue delivers (docs/PROFILES.md,
 * "AWS Config" and "CloudTrail"; docs/EVENTS.md), routed by its detail-type.
 *
 * - `Config Configuration Item Change` (source `aws.config`): the item becomes a profile version
 *   (`profileFromConfigEvent`), written by the same sealed write path as `PUT …/profile`
 *   (`writeSealedProfile`): signed with its ledger event and sealed with its period. A duplicate delivery
 *   finds its content stored (`unchanged`); an item older than the latest version goes into its place in
 *   time. An oversized item becomes a version that says its configuration was not delivered.
 * - Anything else is a CloudTrail envelope (`forwardCloudTrail`). A stored event that changed the
 *   resource it names is on that resource's timeline through the `byResource` index; where the record
 *   carries the new state (`profileFromCloudTrail`), the derived version is written too, from the version
 *   in force at the event's time. Redelivering the event derives the same version, which is then found.
 *
 * A message that can never succeed is rejected with its reason (and acknowledged); one whose write failed
 * in a way a retry can fix is returned as failed, for SQS to redeliver.
 */

import type { ProfileStore } from '../ports/profile-store.ts';
import { CONFIG_DETAIL_TYPE, type ConfigProfile, profileFromConfigEvent } from '../profiles/aws-config.ts';
import { profileFromCloudTrail, resourceLinkOf } from '../profiles/cloudtrail-profile.ts';
import { ConfigMappingError } from '../profiles/errors.ts';
import type { ParsedProfile } from '../profiles/profile.ts';
import { ingestAtVersionTime, writeSealedProfile } from '../profiles/sealed-write.ts';
import { InvalidEventsError } from './errors.ts';
import {
  type AcceptedEvent,
  type ForwardObserver,
  type ForwardOutcome,
  type ForwardRequest,
  forwardCloudTrail,
  type Rejection,
} from './forward-cloudtrail.ts';
import type { IngestDeps } from './ingest-batch.ts';

/** How many times a forwarded version is rebuilt on a new head after losing the race for n+1. */
export const FORWARDER_WRITE_RETRIES = 3;

export interface EventBridgeForwardDeps {
  readonly ingest: IngestDeps;
  /** Reads the chains; the ledger store writes each version with its event. */
  readonly profiles: ProfileStore;
}

/** A profile version this delivery wrote or found: from an AWS Config item or a CloudTrail record. */
export interface ForwardedVersion {
  readonly messageIds: readonly string[];
  readonly source: 'aws-config' | 'cloudtrail';
  readonly resourceId: string;
  readonly n: number;
  readonly status: 'created' | 'unchanged';
}

export interface EventBridgeForwardOutcome extends ForwardOutcome {
  /** The versions written (`created`) or already stored (`unchanged`), in the order they were written. */
  readonly versions: readonly ForwardedVersion[];
}

/** Routes, maps and writes one delivery of EventBridge envelopes. */
export async function forwardEventBridge(
  request: ForwardRequest,
  deps: EventBridgeForwardDeps,
  observer: ForwardObserver,
): Promise<EventBridgeForwardOutcome> {
  const config: { messageId: string; item: ConfigProfile }[] = [];
  const cloudtrail: ForwardRequest['messages'][number][] = [];
  const rejected: Rejection[] = [];
  for (const message of request.messages) {
    const item = configItemOf(message.body, message.messageId, (r) => {
      rejected.push(r);
      observer.rejected(r);
    });
    if (item === 'not-config') cloudtrail.push(message);
    else if (item !== undefined) config.push({ messageId: message.messageId, item });
  }

  const trail =
    cloudtrail.length === 0
      ? emptyOutcome()
      : await forwardCloudTrail({ ...request, messages: cloudtrail }, deps.ingest, observer);
  const outcome = {
    stored: [...trail.stored],
    duplicates: [...trail.duplicates],
    rejected: [...rejected, ...trail.rejected],
    failed: [...trail.failed],
    accepted: trail.accepted,
    versions: [] as ForwardedVersion[],
  };
  const writer = versionWriter(request, deps, observer, outcome);

  for (const { messageId, item } of config) {
    const written = await writer.write(item.parsed, 'aws-config', [messageId]);
    if (written === 'created') outcome.stored.push(messageId);
    else if (written === 'unchanged') outcome.duplicates.push(messageId);
  }

  // Derivations in event-time order, so that a delivery's tag changes of one resource build on each other.
  const changes = trail.accepted
    .flatMap((accepted) => {
      const link = resourceLinkOf(accepted.input);
      return link?.changes ? [{ accepted, link }] : [];
    })
    .sort((a, b) =>
      a.link.time < b.link.time
        ? -1
        : a.link.time > b.link.time
          ? 1
          : a.link.eventId < b.link.eventId
            ? -1
            : 1,
    );
  for (const { accepted, link } of changes) {
    let inForce: Awaited<ReturnType<ProfileStore['versionAt']>>;
    try {
      inForce = await deps.profiles.versionAt(link.resourceId, link.time);
    } catch (error) {
      writer.fail(error, accepted);
      continue;
    }
    const derivation = profileFromCloudTrail(accepted.input, inForce);
    if (derivation.derived) await writer.write(derivation.parsed, 'cloudtrail', accepted.messageIds);
  }
  // A message returned for redelivery is not counted as stored: its next receive says what it is.
  const failed = new Set(outcome.failed);
  return {
    ...outcome,
    stored: outcome.stored.filter((id) => !failed.has(id)),
    duplicates: outcome.duplicates.filter((id) => !failed.has(id)),
  };
}

/**
 * The profile of a Config envelope; `'not-config'` for any other detail-type (a CloudTrail envelope);
 * undefined when it is a Config envelope that cannot become a profile (rejected with its reason).
 */
function configItemOf(
  body: string,
  messageId: string,
  reject: (r: Rejection) => void,
): ConfigProfile | 'not-config' | undefined {
  // Only a body that holds the detail-type's text can be a Config event; the others are parsed once, by
  // the CloudTrail mapping.
  if (!body.includes(CONFIG_DETAIL_TYPE)) return 'not-config';
  try {
    return profileFromConfigEvent(body);
  } catch (error) {
    if (!(error instanceof ConfigMappingError)) throw error;
    // A CloudTrail record may mention the text; the CloudTrail mapping judges what is not a Config event.
    if (error.reason === 'UNSUPPORTED_DETAIL_TYPE') return 'not-config';
    reject({ messageId, reason: error.reason, path: error.path, message: error.message });
    return undefined;
  }
}

function emptyOutcome(): ForwardOutcome {
  return { stored: [], duplicates: [], rejected: [], failed: [], accepted: [] };
}

/** Writes versions through the sealed write path, sorting each outcome into `outcome`. */
function versionWriter(
  request: ForwardRequest,
  deps: EventBridgeForwardDeps,
  observer: ForwardObserver,
  outcome: { rejected: Rejection[]; failed: string[]; versions: ForwardedVersion[] },
) {
  const sealed = {
    store: deps.profiles,
    ingest: ingestAtVersionTime(
      { ledger: request.ledger, principal: request.principal, requestId: request.requestId },
      deps.ingest,
    ),
    actor: { id: request.principal, type: 'service' as const },
    clock: deps.ingest.clock,
    retries: FORWARDER_WRITE_RETRIES,
  };
  const fail = (error: unknown, messageIds: readonly string[]) => {
    outcome.failed.push(...messageIds);
    observer.failed(error, messageIds);
  };
  return {
    fail: (error: unknown, accepted: AcceptedEvent) => fail(error, accepted.messageIds),
    async write(
      parsed: ParsedProfile,
      source: ForwardedVersion['source'],
      messageIds: readonly string[],
    ): Promise<'created' | 'unchanged' | undefined> {
      try {
        const result = await writeSealedProfile(parsed, sealed);
        outcome.versions.push({
          messageIds,
          source,
          resourceId: result.version.resourceId,
          n: result.version.n,
          status: result.status,
        });
        return result.status;
      } catch (error) {
        if (error instanceof InvalidEventsError) {
          // The version's event breaks the event rules: a retry would fail the same way.
          const first = error.errors[0];
          for (const messageId of messageIds) {
            const rejection = {
              messageId,
              reason: first?.code ?? 'INVALID_EVENT',
              path: first?.path ?? '$',
              message: first?.message ?? 'the profile version is not a valid ledger event',
            };
            outcome.rejected.push(rejection);
            observer.rejected(rejection);
          }
          return undefined;
        }
        // Lost every race for n+1 (`ProfileVersionConflictError`), or the ledger or KMS failed: a retry can
        // succeed. (Anything else fails the same way on every receive and ends in the dead-letter queue.)
        fail(error, messageIds);
        return undefined;
      }
    },
  };
}
