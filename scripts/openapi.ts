/**
 * docs/openapi.json: the OpenAPI 3.1 description of the HTTP API, generated (never written by hand) from
 * the route table (infra/constructs/api-routes.ts) and the zod schemas the handlers validate requests with
 * (and the CLI parses answers with). `npm run docs:openapi` rewrites the file; a test fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ZodType, z } from 'zod';
import { alarmsQuerySchema, noQuerySchema } from '../functions/auditor-handlers.ts';
import { requestBodySchema } from '../functions/ingest-events.ts';
import { eventQuerySchema, noParameters } from '../functions/read-handlers.ts';
import { API_ROUTES, deployedRoutes, routeName } from '../infra/constructs/api-routes.ts';
import { alertQuerySchema } from '../shared/detect/alert-query.ts';
import { auditEventInputSchema } from '../shared/events/audit-event.ts';
import { signedHeadSchema } from '../shared/head/signed-head.ts';
import { keyListResponseSchema } from '../shared/keys/key-history.ts';
import { eventIdSchema, receiptSchema } from '../shared/ledger/formats.ts';
import { profileQuerySchema, timelineQuerySchema } from '../shared/profiles/api.ts';
import { profileSchema } from '../shared/profiles/profile.ts';
import {
  errorBodySchema,
  eventAnswerSchema,
  eventProofSchema,
  notSealedSchema,
  searchPageSchema,
} from '../shared/query/responses.ts';
import { searchParametersSchema } from '../shared/query/search-query.ts';
import { listQuerySchema } from '../shared/sealing/digest-catalog.ts';

/** The file this script writes. */
export const OPENAPI_FILE = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

interface RouteDoc {
  readonly summary: string;
  readonly query: ZodType;
  readonly body?: ZodType;
  readonly ok: { status: number; schema: ZodType; description: string };
  /** Deliberate answers other than 2xx, by status, with their codes (docs/API.md). */
  readonly errors: Readonly<Record<number, string>>;
  readonly extra?: Readonly<Record<number, ZodType>>;
}

const COMMON_ERRORS = { 403: 'MISSING_AUTHENTICATION, INVALID_SIGNATURE, ACCESS_DENIED…' };
const READ_ERRORS = {
  ...COMMON_ERRORS,
  503: 'READ_NOT_RECORDED: the read could not be recorded (G7); retry',
};

/** The handler's body schema, with its items described by the event schema the ingest core applies. */
const ingestBody = requestBodySchema.extend({ events: z.array(auditEventInputSchema).min(1).max(500) });

/** What the generator says about each route; every deployed route must have one. */
export const ROUTE_DOCS: Readonly<Record<string, RouteDoc>> = {
  'POST /v1/events': {
    summary: 'Ingest a batch of events; one signed receipt per event',
    query: noQuerySchema,
    body: ingestBody,
    ok: {
      status: 201,
      description: 'stored (200 when every event was already stored)',
      schema: z.object({
        stored: z.array(z.string()),
        duplicates: z.array(z.string()),
        receipts: z.array(receiptSchema),
      }),
    },
    errors: {
      ...COMMON_ERRORS,
      400: 'INVALID_JSON, INVALID_BODY, EMPTY_BATCH, TOO_MANY_EVENTS, INVALID_EVENTS',
      409: 'ID_CONFLICT',
      413: 'PAYLOAD_TOO_LARGE',
      415: 'UNSUPPORTED_MEDIA_TYPE',
      503: 'PERIOD_CLOSING, STORE_UNAVAILABLE, SIGNER_UNAVAILABLE, WRITE_INCOMPLETE',
    },
  },
  'GET /v1/events': {
    summary: 'Search events by actor, resource, action, outcome, channel and time, newest first',
    query: searchParametersSchema,
    ok: { status: 200, description: 'one page of results', schema: searchPageSchema },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY, INVALID_CURSOR, CURSOR_MISMATCH' },
  },
  'GET /v1/events/{id}': {
    summary:
      'One event with its receipt, its period and, once sealed, its digest reference (include=profile: the resource profile versions around it)',
    query: eventQuerySchema,
    ok: { status: 200, description: 'the event', schema: eventAnswerSchema },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY, INVALID_PATH', 404: 'NOT_FOUND' },
  },
  'GET /v1/events/{id}/proof': {
    summary: "The event's self-contained inclusion proof in its period digest",
    query: noParameters,
    ok: {
      status: 200,
      description: 'the proof (verify with auditseal verify-proof)',
      schema: eventProofSchema,
    },
    errors: {
      ...READ_ERRORS,
      400: 'INVALID_QUERY, INVALID_PATH',
      404: 'NOT_FOUND, NOT_IN_DIGEST',
      409: 'NOT_SEALED (with retryAfter and a Retry-After header)',
    },
    extra: { 409: notSealedSchema },
  },
  'GET /v1/digests': {
    summary: 'Sealed periods in a time range, oldest first, paginated',
    query: listQuerySchema,
    ok: {
      status: 200,
      description: 'one page of digests',
      schema: z.object({
        digests: z.array(z.looseObject({ id: z.string() })),
        nextToken: z.string().optional(),
      }),
    },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY' },
  },
  'GET /v1/digests/{id}': {
    summary: 'One digest: statement, signature, archives, batch records, with short-lived download links',
    query: noQuerySchema,
    ok: {
      status: 200,
      description: 'the digest and links to its objects',
      schema: z.looseObject({
        id: z.string(),
        objects: z.array(z.object({ key: z.string(), url: z.string() })),
      }),
    },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY, INVALID_PATH', 404: 'NOT_FOUND' },
  },
  'GET /v1/head': {
    summary: 'The newest signed digest statement, for auditors to keep (auditseal head)',
    query: noQuerySchema,
    ok: { status: 200, description: 'the signed head', schema: signedHeadSchema },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY', 404: 'NOT_FOUND: nothing has been sealed yet' },
  },
  'GET /v1/keys': {
    summary: 'Every key that has signed, with fingerprint, validity window and signed key record',
    query: noQuerySchema,
    ok: { status: 200, description: 'the keys, newest first', schema: keyListResponseSchema },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY' },
  },
  'PUT /v1/resources/{id}/profile': {
    summary: "Record the resource's next profile version, sealed in the ledger (idempotent on content)",
    query: noQuerySchema,
    body: profileSchema,
    ok: {
      status: 201,
      description:
        'stored as a new version, with its diff and receipt (200 when the content was already there)',
      schema: z.looseObject({
        status: z.enum(['created', 'unchanged']),
        version: versionSchema(),
        diff: z.looseObject({}).optional(),
        receipt: receiptSchema.optional(),
      }),
    },
    errors: {
      ...COMMON_ERRORS,
      400: 'INVALID_JSON, INVALID_BODY, INVALID_PROFILE, INVALID_PATH',
      409: 'VERSION_CONFLICT (with the current version)',
      413: 'PAYLOAD_TOO_LARGE',
      415: 'UNSUPPORTED_MEDIA_TYPE',
      503: 'PERIOD_CLOSING, STORE_UNAVAILABLE, SIGNER_UNAVAILABLE',
    },
  },
  'GET /v1/resources/{id}/profile': {
    summary: 'The profile version in force at a time (default: the latest), with its position and hash',
    query: profileQuerySchema,
    ok: {
      status: 200,
      description: 'the version',
      schema: z.looseObject({
        resourceId: z.string(),
        state: z.enum(['present', 'deleted']),
        version: versionSchema(),
      }),
    },
    errors: {
      ...READ_ERRORS,
      400: 'INVALID_QUERY, INVALID_PATH',
      404: 'NO_PROFILE, BEFORE_FIRST_VERSION (with the first version)',
    },
  },
  'GET /v1/resources/{id}/timeline': {
    summary: 'Profile versions with their diffs and the events on the resource, in time order, paginated',
    query: timelineQuerySchema,
    ok: {
      status: 200,
      description: 'one page of the timeline',
      schema: z.looseObject({
        resourceId: z.string(),
        items: z.array(z.looseObject({ kind: z.enum(['event', 'version']), time: z.string() })),
        nextCursor: z.string().optional(),
      }),
    },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY, INVALID_PATH, INVALID_CURSOR, CURSOR_MISMATCH' },
  },
  'GET /v1/alarms': {
    summary: 'Tamper and sealing alarms',
    query: alarmsQuerySchema,
    ok: { status: 200, description: 'the alarms', schema: z.object({ alarms: z.array(z.looseObject({})) }) },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY' },
  },
  'GET /v1/alerts': {
    summary: 'Detection alerts (Sigma rule matches), newest first, with filters and cursors',
    query: alertQuerySchema,
    ok: {
      status: 200,
      description: 'one page of alerts, each with its stored alert event and receipt',
      schema: z.object({
        alerts: z.array(
          z.looseObject({
            alertId: z.string(),
            kind: z.enum(['alert', 'summary']),
            receivedAt: z.string(),
            level: z.string(),
            rule: z.looseObject({ id: z.string(), title: z.string() }),
            count: z.number().int(),
            eventIds: z.array(z.string()),
            event: z.looseObject({}),
            receipt: receiptSchema,
          }),
        ),
        cursor: z.string().optional(),
      }),
    },
    errors: { ...READ_ERRORS, 400: 'INVALID_QUERY' },
  },
};

/** A profile version as the profile routes answer it. */
function versionSchema() {
  return z.looseObject({
    resourceId: z.string(),
    n: z.number().int(),
    hash: z.string(),
    previousHash: z.string().nullable(),
    recordedAt: z.string(),
    effectiveAt: z.string(),
    eventId: z.string(),
    profile: z.looseObject({}),
  });
}

function jsonSchema(schema: ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

function queryParameters(schema: ZodType): Record<string, unknown>[] {
  const described = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>> };
  return Object.entries(described.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: 'query', required: false, ...(description ? { description } : {}), schema: rest };
  });
}

const PATH_PARAMETERS: Record<string, Record<string, unknown>> = {
  '/v1/events/{id}': {
    description:
      'the event id encoded twice (encodeURIComponent of encodeURIComponent): ids may hold / and :, and a REST API does not route an encoded slash',
    schema: jsonSchema(eventIdSchema),
  },
  '/v1/resources/{id}/profile': {
    description:
      'the resource id (an ARN or an app id) encoded twice (encodeURIComponent of encodeURIComponent), as event ids are',
    schema: { type: 'string', minLength: 1 },
  },
  '/v1/resources/{id}/timeline': {
    description: 'the resource id encoded twice (encodeURIComponent of encodeURIComponent)',
    schema: { type: 'string', minLength: 1 },
  },
  '/v1/digests/{id}': {
    description: 'a digest id: the period start and length, e.g. 20261122T210000Z-3600s',
    schema: { type: 'string', pattern: '^\\d{8}T\\d{6}Z-\\d{2,5}s$' },
  },
};

/** The whole document. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of deployedRoutes(API_ROUTES)) {
    const name = routeName(route);
    const doc = ROUTE_DOCS[name];
    if (doc === undefined) throw new Error(`scripts/openapi.ts has no description of ${name}`);
    const pathKey = route.path;
    const pathDoc = PATH_PARAMETERS[pathKey.replace(/\/proof$/, '')];
    const parameters = [
      ...(route.path.includes('{id}') && pathDoc
        ? [{ name: 'id', in: 'path', required: true, ...pathDoc }]
        : []),
      ...queryParameters(doc.query),
    ];
    const responses: Record<string, unknown> = {
      [String(doc.ok.status)]: {
        description: doc.ok.description,
        content: { 'application/json': { schema: jsonSchema(doc.ok.schema) } },
      },
    };
    for (const [status, codes] of Object.entries(doc.errors)) {
      const schema = doc.extra?.[Number(status)] ?? errorBodySchema;
      responses[status] = {
        description: codes,
        content: { 'application/json': { schema: jsonSchema(schema) } },
      };
    }
    paths[pathKey] ??= {};
    paths[pathKey]![route.method.toLowerCase()] = {
      operationId: route.handler.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
      summary: doc.summary,
      description: `Role: ${route.roles.join(', ')}.${route.method === 'GET' ? ' Every successful read is recorded in the ledger (G7).' : ''}`,
      'x-auditseal-roles': route.roles,
      security: [{ sigv4: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(doc.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'auditseal',
      version: '0.1.0',
      description:
        'Private REST API (IAM auth, SigV4 service execute-api). Errors are { code, message } with a 4xx. Generated by scripts/openapi.ts; see docs/API.md.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4, service execute-api',
        },
      },
    },
    paths,
  };
}

/** The document as the file holds it. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(OPENAPI_FILE, openApiText());
  console.log(`wrote ${OPENAPI_FILE}`);
}
