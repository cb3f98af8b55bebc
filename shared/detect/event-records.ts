/**
 * Which source a stored event comes from, and the record its Sigma fields resolve against. The source
 * follows from the verbatim record the event keeps, whatever its channel (an imported CloudTrail log is
 * CloudTrail too):
 * - a `cloudtrail` member: CloudTrail, fields resolve against that record;
 * - a `kubernetes` member: Kubernetes audit, fields resolve against that Event;
 * - neither: an app event, fields resolve against the stored event itself.
 */
import { cloudTrailRecordOf as recordOfCloudTrailText } from '../events/cloudtrail.ts';
import { kubernetesEventOf as eventOfKubernetesText } from '../events/kubernetes.ts';
import { appSourceOf, CLOUDTRAIL_SOURCE, type EventSource, KUBERNETES_SOURCE } from './log-sources.ts';

/** A record and its source, ready for the detector. */
export interface DetectionSubject {
  readonly source: EventSource;
  readonly record: Readonly<Record<string, unknown>>;
}

/**
 * The verbatim CloudTrail record an event keeps, if any. The one place that knows where the stored
 * event holds it, so that a change of that format is a change here only: the record's own JSON text,
 * parsed without loss (`shared/events/cloudtrail.ts`; numbers are `LosslessNumber`s).
 */
export function cloudTrailRecordOf(
  event: Readonly<Record<string, unknown>>,
): Record<string, unknown> | undefined {
  return recordOfCloudTrailText(event);
}

/**
 * The verbatim Kubernetes audit Event an event keeps, if any: the Event's own JSON text, parsed without
 * loss (`shared/events/kubernetes.ts`; numbers are `LosslessNumber`s, as in a CloudTrail record).
 */
export function kubernetesEventOf(
  event: Readonly<Record<string, unknown>>,
): Record<string, unknown> | undefined {
  return eventOfKubernetesText(event);
}

/** The source and record of a stored (or about to be stored) event. */
export function subjectOf(event: Readonly<Record<string, unknown>>): DetectionSubject {
  const cloudtrail = cloudTrailRecordOf(event);
  if (cloudtrail !== undefined) return { source: CLOUDTRAIL_SOURCE, record: cloudtrail };
  const kubernetes = kubernetesEventOf(event);
  if (kubernetes !== undefined) return { source: KUBERNETES_SOURCE, record: kubernetes };
  return { source: appSourceOf(event['tags']), record: event };
}
