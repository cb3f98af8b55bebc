/**
 * The fields each source's records can have, so that a rule naming a field the records never have is
 * refused at load (`UNKNOWN_FIELD`) instead of silently never matching, and a value that can never match
 * its field's type is refused too (`NEVER_MATCHES`).
 *
 * - CloudTrail: the top-level members of a record, from the CloudTrail record contents reference
 *   (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
 *   Below the top level, records are service-specific and every name is accepted.
 * - Kubernetes: the `audit.k8s.io/v1` Event (and `v1beta1`'s `timestamp` and `metadata`), with the members
 *   of `user`, `objectRef` and `responseStatus` (https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/).
 * - Apps: the stored audit event (docs/EVENTS.md §2).
 */
import { SigmaRuleError } from './errors.ts';
import type { SourceKind } from './log-sources.ts';

/** What a field holds. `any` covers objects (searched through), free-form members and mixed types. */
export type FieldType = 'string' | 'integer' | 'boolean' | 'any';

/** A record member: its type, or the members of an object (closed: others are unknown). */
type Shape = FieldType | { readonly [member: string]: Shape };

const CLOUDTRAIL: Record<string, Shape> = {
  eventTime: 'string',
  eventVersion: 'string',
  userIdentity: 'any',
  eventSource: 'string',
  eventName: 'string',
  awsRegion: 'string',
  sourceIPAddress: 'string',
  userAgent: 'string',
  errorCode: 'string',
  errorMessage: 'string',
  requestParameters: 'any',
  responseElements: 'any',
  additionalEventData: 'any',
  requestID: 'string',
  eventID: 'string',
  eventType: 'string',
  apiVersion: 'string',
  managementEvent: 'boolean',
  readOnly: 'boolean',
  resources: 'any',
  recipientAccountId: 'string',
  serviceEventDetails: 'any',
  sharedEventID: 'string',
  vpcEndpointId: 'string',
  vpcEndpointAccountId: 'string',
  eventCategory: 'string',
  addendum: 'any',
  sessionCredentialFromConsole: 'string',
  edgeDeviceDetails: 'any',
  tlsDetails: 'any',
  insightDetails: 'any',
};

const K8S_USER: Record<string, Shape> = { username: 'string', uid: 'string', groups: 'string', extra: 'any' };

const KUBERNETES: Record<string, Shape> = {
  kind: 'string',
  apiVersion: 'string',
  metadata: 'any',
  level: 'string',
  timestamp: 'string',
  auditID: 'string',
  stage: 'string',
  requestURI: 'string',
  verb: 'string',
  user: K8S_USER,
  impersonatedUser: K8S_USER,
  sourceIPs: 'string',
  userAgent: 'string',
  objectRef: {
    resource: 'string',
    namespace: 'string',
    name: 'string',
    uid: 'string',
    apiGroup: 'string',
    apiVersion: 'string',
    resourceVersion: 'string',
    subresource: 'string',
  },
  responseStatus: {
    kind: 'string',
    apiVersion: 'string',
    metadata: 'any',
    status: 'string',
    message: 'string',
    reason: 'string',
    details: 'any',
    code: 'integer',
  },
  requestObject: 'any',
  responseObject: 'any',
  requestReceivedTimestamp: 'string',
  stageTimestamp: 'string',
  annotations: 'any',
};

const APP: Record<string, Shape> = {
  id: 'string',
  eventTime: 'string',
  actor: {
    id: 'string',
    type: 'string',
    authMethod: 'string',
    mfa: 'boolean',
    sessionId: 'string',
    accountId: 'string',
  },
  action: 'string',
  resource: { id: 'string', type: 'string', name: 'string' },
  outcome: { result: 'string', errorCode: 'string', errorMessage: 'string' },
  sourceIp: 'string',
  userAgent: 'string',
  requestId: 'string',
  endpoint: 'string',
  tags: 'any',
  labels: 'string',
  details: 'any',
  v: 'integer',
  receivedAt: 'string',
  channel: 'string',
};

const SHAPES: Readonly<Record<SourceKind, Record<string, Shape>>> = {
  cloudtrail: CLOUDTRAIL,
  kubernetes: KUBERNETES,
  app: APP,
};

const RECORD_NAMES: Readonly<Record<SourceKind, string>> = {
  cloudtrail: 'a CloudTrail record',
  kubernetes: 'an audit.k8s.io Event',
  app: 'an auditseal event',
};

/**
 * The type of `field` in records of `kind`. Throws `SigmaRuleError('UNKNOWN_FIELD')`, with a hint when
 * the name is a known member one level down (`apiGroup` → `objectRef.apiGroup`).
 */
export function fieldTypeOf(kind: SourceKind, field: string, path: string): FieldType {
  let shape: Shape = SHAPES[kind];
  const segments = field.split('.');
  for (let i = 0; i < segments.length; i++) {
    if (typeof shape === 'string') return 'any';
    const member = segments[i]!;
    if (!Object.hasOwn(shape, member)) {
      // A closed object's own members may contain dots; the schemas above have none, so this is final.
      const where = i === 0 ? '' : ` in ${segments.slice(0, i).join('.')}`;
      throw new SigmaRuleError(
        'UNKNOWN_FIELD',
        path,
        `field "${field}" is not a member${where} of ${RECORD_NAMES[kind]}${hintFor(kind, segments)}`,
      );
    }
    shape = shape[member]!;
  }
  return typeof shape === 'string' ? shape : 'any';
}

function hintFor(kind: SourceKind, segments: readonly string[]): string {
  if (segments.length !== 1) return '';
  const [name] = segments;
  const hits = Object.entries(SHAPES[kind]).flatMap(([parent, shape]) =>
    typeof shape === 'object' && Object.hasOwn(shape, name!) ? [`${parent}.${name}`] : [],
  );
  return hits.length === 0 ? '' : ` (did you mean ${hits.map((h) => `"${h}"`).join(' or ')}?)`;
}
