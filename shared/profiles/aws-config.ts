/**
 * AWS Config configuration items to profiles (G10). The forwarder receives EventBridge events of
 * detail-type `Config Configuration Item Change`, whose `detail` is the notification AWS Config also
 * sends to SNS (`messageType` tells the kinds apart). Mapping (docs/PROFILES.md, "AWS Config"):
 *
 * - `configurationItemCaptureTime` → `lastModified`;
 * - `configurationItemStatus` `ResourceDeleted` / `ResourceDeletedNotRecorded` → a tombstone;
 *   `ResourceNotRecorded` → configuration not delivered (`NOT_RECORDED_BY_SOURCE`);
 * - `relatedEvents` (CloudTrail event ids) → `relatedEventIds` as `ct:<id>`;
 * - `configuration`, `supplementaryConfiguration`, `tags`, `relationships` are kept as they came, and
 *   the item's other members (and the notification's, but its `configurationItemDiff`) go in `origin`;
 * - oversized-item notifications, and items whose configuration breaks the profile bounds, become a
 *   version that says the configuration was not delivered, with where it is and why: never dropped.
 *
 * Items come in two shapes: the notification shape (`ARN`, `awsAccountId`, `configurationItemVersion`,
 * `configuration` as an object) and the API shape of `get-resource-config-history` (`arn`, `accountId`,
 * `version`, `configuration` as a JSON string). Both are accepted.
 * Reference: https://docs.aws.amazon.com/config/latest/developerguide/example-sns-notification.html
 */
import { z } from 'zod';
import { CLOUDTRAIL_ID_PREFIX } from '../events/cloudtrail.ts';
import { EventValidationError } from '../events/errors.ts';
import { EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH } from '../events/event-id.ts';
import { isPlainObject } from '../events/json-guard.ts';
import { formatJsonPath } from '../events/json-path.ts';
import { parseJsonText } from '../events/json-text.ts';
import { SOURCE_TEXT_LIMITS } from '../events/limits.ts';
import { parseRfc3339 } from '../events/rfc3339.ts';
import { ConfigMappingError, type ConfigRejectReason, ProfileValidationError } from './errors.ts';
import { MAX_RELATED_EVENT_IDS } from './limits.ts';
import { holdsInexactNumber, withExactNumbers } from './lossless.ts';
import { jcsSha256, type ParsedProfile, parseProfile } from './profile.ts';

/** The EventBridge detail-type of every AWS Config item notification, normal or oversized. */
export const CONFIG_DETAIL_TYPE = 'Config Configuration Item Change';

export const CONFIG_MESSAGE_TYPES = [
  'ConfigurationItemChangeNotification',
  'OversizedConfigurationItemChangeNotification',
  'OversizedConfigurationItemChangeDeliveryFailed',
] as const;
export type ConfigMessageType = (typeof CONFIG_MESSAGE_TYPES)[number];

/** Statuses after which the resource no longer exists. */
export const TOMBSTONE_STATUSES: ReadonlySet<string> = new Set([
  'ResourceDeleted',
  'ResourceDeletedNotRecorded',
]);

/** Item members that become profile members; the rest of the item is kept in `origin`. */
const BULKY_MEMBERS = ['configuration', 'supplementaryConfiguration', 'tags', 'relationships'] as const;

/** Some Lambda and EventBridge envelopes carry extra members; only `detail` is read. */
const envelopeSchema = z.looseObject({
  version: z.string().max(16).optional(),
  id: z.string().min(1).max(128),
  'detail-type': z.string().min(1).max(128),
  source: z.string().min(1).max(256),
  account: z.string().min(1).max(64),
  time: z.string().max(64),
  region: z.string().min(1).max(64),
  resources: z.array(z.string().max(2048)).max(100),
  detail: z.custom<Record<string, unknown>>((value) => isPlainObject(value), 'must be a JSON object'),
});

/** A mapped Config notification: the profile, with what the notification said about it. */
export interface ConfigProfile {
  readonly parsed: ParsedProfile;
  readonly messageType: ConfigMessageType;
  readonly status: string;
}

/**
 * Maps the JSON text of an EventBridge `Config Configuration Item Change` event. The text is read
 * without loss, as CloudTrail's is: a number no double holds exactly is never rounded (the
 * configuration that holds it is kept out, and the version says so). Throws `ConfigMappingError` when
 * the event or its item cannot become a profile (then nothing may be written).
 */
export function profileFromConfigEvent(text: string): ConfigProfile {
  let envelope: unknown;
  try {
    envelope = withExactNumbers(parseJsonText(text, SOURCE_TEXT_LIMITS, '$'));
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    throw new ConfigMappingError('INVALID_JSON', '$', error.message.replace(/ at \S+$/, ''), {
      cause: error,
    });
  }
  if (!isPlainObject(envelope)) {
    throw new ConfigMappingError('NOT_AN_EVENT', '$', 'an EventBridge event must be a JSON object');
  }
  const parsed = envelopeSchema.safeParse(envelope);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigMappingError('BAD_ENVELOPE', formatJsonPath(issue.path), `envelope: ${issue.message}`);
  }
  if (parsed.data['detail-type'] !== CONFIG_DETAIL_TYPE) {
    throw new ConfigMappingError(
      'UNSUPPORTED_DETAIL_TYPE',
      '$["detail-type"]',
      'detail-type is not an AWS Config item change',
    );
  }
  return profileFromConfigNotification(parsed.data.detail, '$.detail');
}

/**
 * Maps a Config notification (an EventBridge `detail`, or an SNS `Message` once parsed).
 * `base` is the JSON path of the notification in the caller's input, for error messages.
 */
export function profileFromConfigNotification(notification: unknown, base = '$'): ConfigProfile {
  if (!isPlainObject(notification))
    throw reject('NOT_AN_EVENT', base, 'the notification must be a JSON object');
  const declared = notification['messageType'];
  const named =
    declared === undefined && 'configurationItem' in notification
      ? 'ConfigurationItemChangeNotification'
      : declared;
  if (typeof named !== 'string' || !(CONFIG_MESSAGE_TYPES as readonly string[]).includes(named)) {
    throw reject(
      'UNSUPPORTED_MESSAGE_TYPE',
      `${base}.messageType`,
      'messageType is not a configuration item change',
    );
  }
  const messageType = named as ConfigMessageType;
  // fromEntries defines own members: a `__proto__` name stays a member, for the guard to refuse.
  const origin = Object.fromEntries(
    Object.entries(notification).filter(
      ([key]) => key !== 'configurationItemDiff' && key !== 'configurationItem',
    ),
  );
  if (messageType === 'ConfigurationItemChangeNotification') {
    const item = singleItem(notification['configurationItem'], `${base}.configurationItem`);
    return { ...mapItem(item, origin, `${base}.configurationItem`), messageType };
  }
  return { ...mapOversized(notification, origin, base, messageType), messageType };
}

/** The 2014 documentation example wraps its one item in an array; everything since sends the object. */
function singleItem(value: unknown, path: string): Record<string, unknown> {
  if (Array.isArray(value) && value.length === 1) return singleItem(value[0], `${path}[0]`);
  if (!isPlainObject(value))
    throw reject('MISSING_CONFIGURATION_ITEM', path, 'configurationItem must be a JSON object');
  return value;
}

interface ItemCore {
  readonly resourceId: string;
  readonly resourceType: string;
  readonly lastModified: string;
  readonly status: string;
}

function mapItem(
  item: Record<string, unknown>,
  origin: Record<string, unknown>,
  path: string,
): Omit<ConfigProfile, 'messageType'> {
  const core = readCore(item, path);
  const metadata = Object.fromEntries(
    Object.entries(item).filter(([key]) => !(BULKY_MEMBERS as readonly string[]).includes(key)),
  );
  const candidate: Record<string, unknown> = {
    resourceId: core.resourceId,
    resourceType: core.resourceType,
    configuration: configurationOf(item['configuration']),
    lastModified: core.lastModified,
    source: 'aws-config',
    origin: { ...origin, configurationItem: metadata },
  };
  for (const member of ['supplementaryConfiguration', 'tags', 'relationships'] as const) {
    const value = item[member];
    if (value !== undefined && value !== null) candidate[member] = value;
  }
  const related = relatedEventIds(item['relatedEvents']);
  if (related.length > 0) candidate['relatedEventIds'] = related;
  if (TOMBSTONE_STATUSES.has(core.status)) candidate['tombstone'] = true;
  else if (core.status === 'ResourceNotRecorded' && candidate['configuration'] === null) {
    candidate['configurationNotDelivered'] = { reason: 'NOT_RECORDED_BY_SOURCE' };
  }
  return { parsed: parseWithFallback(candidate, path), status: core.status };
}

function mapOversized(
  notification: Record<string, unknown>,
  origin: Record<string, unknown>,
  base: string,
  messageType: ConfigMessageType,
): Omit<ConfigProfile, 'messageType'> {
  const summary = notification['configurationItemSummary'];
  const path = `${base}.configurationItemSummary`;
  if (!isPlainObject(summary))
    throw reject('MISSING_CONFIGURATION_ITEM', path, 'configurationItemSummary must be a JSON object');
  const core = readCore(summary, path);
  const delivery = isPlainObject(notification['s3DeliverySummary']) ? notification['s3DeliverySummary'] : {};
  const location = nonEmpty(delivery['s3BucketLocation']);
  const errorCode = nonEmpty(delivery['errorCode']);
  const notDelivered: Record<string, string> = {
    reason:
      messageType === 'OversizedConfigurationItemChangeDeliveryFailed'
        ? 'SOURCE_DELIVERY_FAILED'
        : 'SOURCE_OVERSIZED',
  };
  if (location !== undefined && location.length <= 2048) notDelivered['location'] = location;
  if (errorCode !== undefined && errorCode.length <= 256) notDelivered['detail'] = errorCode;
  const candidate: Record<string, unknown> = {
    resourceId: core.resourceId,
    resourceType: core.resourceType,
    configuration: null,
    configurationNotDelivered: notDelivered,
    lastModified: core.lastModified,
    source: 'aws-config',
    origin,
  };
  if (TOMBSTONE_STATUSES.has(core.status)) candidate['tombstone'] = true;
  return { parsed: parseWithFallback(candidate, base), status: core.status };
}

/** The members every item (or oversized summary) needs. */
function readCore(item: Record<string, unknown>, path: string): ItemCore {
  const resourceType = nonEmpty(item['resourceType']);
  if (resourceType === undefined)
    throw reject('MISSING_RESOURCE_TYPE', `${path}.resourceType`, 'item has no resourceType');
  const resourceId = resourceIdOf(item, resourceType);
  if (resourceId === undefined)
    throw reject('MISSING_RESOURCE_ID', `${path}.resourceId`, 'item has neither an ARN nor a resourceId');
  const lastModified = captureTime(item['configurationItemCaptureTime']);
  if (lastModified === undefined) {
    throw reject(
      'BAD_CAPTURE_TIME',
      `${path}.configurationItemCaptureTime`,
      'configurationItemCaptureTime is not a date-time',
    );
  }
  const status = nonEmpty(item['configurationItemStatus']);
  if (status === undefined || status.length > 64) {
    throw reject(
      'BAD_STATUS',
      `${path}.configurationItemStatus`,
      'configurationItemStatus is missing or not a string',
    );
  }
  return { resourceId, resourceType, lastModified, status };
}

/**
 * The profile's resource id: the item's ARN (`ARN` in notifications, `arn` from the API), or its
 * `resourceId` when that is an ARN itself; otherwise, for the few types without ARNs,
 * `aws-config:<region>:<account>:<resourceType>/<resourceId>`.
 */
export function resourceIdOf(item: Record<string, unknown>, resourceType: string): string | undefined {
  for (const candidate of [item['ARN'], item['arn'], item['resourceId']]) {
    const arn = nonEmpty(candidate);
    if (arn?.startsWith('arn:')) return arn;
  }
  const id = nonEmpty(item['resourceId']);
  if (id === undefined) return undefined;
  const region = nonEmpty(item['awsRegion']) ?? '';
  const account = nonEmpty(item['awsAccountId']) ?? nonEmpty(item['accountId']) ?? '';
  return `aws-config:${region}:${account}:${resourceType}/${id}`;
}

/** RFC 3339 text, or the epoch seconds the AWS CLI prints; normalized to a canonical time. */
function captureTime(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const ms = parseRfc3339(value);
    return ms === undefined ? undefined : new Date(ms).toISOString();
  }
  if (typeof value === 'number' && Number.isFinite(value) && value > 0 && value < 253_402_300_800) {
    return new Date(Math.floor(value * 1000)).toISOString();
  }
  return undefined;
}

/** API-shape items carry the configuration as a JSON string; notifications as the value itself. */
function configurationOf(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value !== 'string') return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null ? parsed : value;
  } catch {
    return value;
  }
}

/** `ct:<id>` for each related CloudTrail event id that makes a valid event id, without repeats. */
function relatedEventIds(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const ids = new Set<string>();
  for (const entry of value) {
    if (typeof entry !== 'string') continue;
    const id = `${CLOUDTRAIL_ID_PREFIX}${entry}`;
    if (id.length <= MAX_EVENT_ID_LENGTH && EVENT_ID_PATTERN.test(id)) ids.add(id);
    if (ids.size === MAX_RELATED_EVENT_IDS) break;
  }
  return [...ids];
}

const CONFIGURATION_GROUP = ['configuration', 'supplementaryConfiguration', 'relationships'] as const;

/**
 * `parseProfile`, and when the configuration (or tags) break the bounds, the same profile without
 * them, marked: the configuration as not delivered (`PROFILE_LIMIT`, with the failed check and the
 * SHA-256 of what was left out), tags listed in `origin.notKept`. Anything else is a rejection.
 */
function parseWithFallback(candidate: Record<string, unknown>, path: string): ParsedProfile {
  let current = candidate;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return parseProfile(current);
    } catch (error) {
      if (!(error instanceof ProfileValidationError)) throw error;
      const member = topMember(error.path);
      if (error.reason === 'TOO_LARGE' || (CONFIGURATION_GROUP as readonly string[]).includes(member ?? '')) {
        if (current['configurationNotDelivered'] !== undefined && current['configuration'] === null)
          throw invalid(error, path);
        current = withoutConfiguration(current, error.reason);
      } else if (member === 'tags') {
        const origin = isPlainObject(current['origin']) ? current['origin'] : {};
        const { tags: _dropped, ...rest } = current;
        current = { ...rest, origin: { ...origin, notKept: ['tags'] } };
      } else {
        throw invalid(error, path);
      }
    }
  }
  return parseProfile(current);
}

function withoutConfiguration(candidate: Record<string, unknown>, check: string): Record<string, unknown> {
  const inGroup = ([key]: [string, unknown]) => (CONFIGURATION_GROUP as readonly string[]).includes(key);
  const group = Object.fromEntries(Object.entries(candidate).filter(inGroup));
  const rest = Object.fromEntries(Object.entries(candidate).filter((entry) => !inGroup(entry)));
  // A number no double holds exactly: name it, rather than the guard's generic "not a JSON value".
  const detail = check === 'INVALID_JSON_VALUE' && holdsInexactNumber(group) ? 'INEXACT_NUMBER' : check;
  const notDelivered: Record<string, string> = { reason: 'PROFILE_LIMIT', detail };
  try {
    notDelivered['sha256'] = jcsSha256(group);
  } catch {
    // Not canonicalizable (nested deeper than JCS accepts, or a lone surrogate): no hash to give.
  }
  return { ...rest, configuration: null, configurationNotDelivered: notDelivered };
}

/** `configuration` of `$.configuration.x[2]`, `tags` of `$.tags`, undefined for `$`. */
function topMember(path: string): string | undefined {
  return /^\$\.([A-Za-z]+)/.exec(path)?.[1];
}

function invalid(error: ProfileValidationError, path: string): ConfigMappingError {
  return new ConfigMappingError('INVALID_ITEM', path, `mapped profile: ${error.message}`, { cause: error });
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function reject(reason: ConfigRejectReason, path: string, message: string): ConfigMappingError {
  return new ConfigMappingError(reason, path, message);
}
