/**
 * The members an app event (`POST /v1/events`) and its objects allow, as docs/EVENTS.md lists them: the
 * generated bad-input tests draw "unknown" members outside these (test/integration/bad-input.test.ts,
 * test/unit/functions/ingest-events.fuzz.test.ts).
 */
export const APP_EVENT_MEMBERS = {
  event: new Set([
    'id',
    'eventTime',
    'actor',
    'action',
    'resource',
    'outcome',
    'sourceIp',
    'userAgent',
    'requestId',
    'endpoint',
    'tags',
    'labels',
    'details',
    'cloudtrail',
  ]),
  actor: new Set(['id', 'type', 'authMethod', 'mfa', 'sessionId', 'accountId']),
  resource: new Set(['id', 'type', 'name']),
  outcome: new Set(['result', 'errorCode', 'errorMessage']),
} as const satisfies Record<string, ReadonlySet<string>>;
