/**
 * Audited reads (G7): every successful read of the API is itself an event of the ledger, channel `read`,
 * signed and sealed like any other. This module says what such an event holds; the read journal
 * (`ReadJournal`) carries it to the ingest core. docs/API.md, "Audited reads".
 */
import { z } from 'zod';
import type { AuditEventInput } from '../events/audit-event.ts';

/** What one successful read did. */
export interface ReadRecord {
  /** The API request id: the read event's id is `read:<requestId>`, so a redelivery is idempotent. */
  readonly requestId: string;
  /** The caller's IAM principal ARN. */
  readonly principal: string;
  /** `GET /v1/events/{id}`: the route as the route table names it. */
  readonly route: string;
  /** `auditseal:GetEvent`: what the read did, as the read event's action. */
  readonly action: string;
  /** When the request arrived, `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  readonly at: string;
  /** The query parameters of the request (searches, lists). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** The one thing read, when the route names it: an event id or a digest id. */
  readonly target?: { readonly id: string; readonly type: string };
  /** How many results the read returned (1 for a single item). */
  readonly resultCount: number;
}

/** A read record as carried by the journal (a queue message body): checked again when it is taken off. */
export const readRecordSchema = z.strictObject({
  requestId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,120}$/),
  principal: z.string().min(1).max(512),
  route: z.string().min(1).max(64),
  action: z.string().min(1).max(64),
  at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
  parameters: z
    .record(z.string().min(1).max(32), z.string().max(4096))
    .refine((p) => Object.keys(p).length <= 20, 'at most 20 parameters')
    .optional(),
  target: z.strictObject({ id: z.string().min(1).max(2048), type: z.string().min(1).max(64) }).optional(),
  resultCount: z.number().int().nonnegative().max(1_000_000),
});

/** Takes read records to the ledger with a guarantee: `record` resolves once the record cannot be lost. */
export interface ReadJournal {
  record(read: ReadRecord): Promise<void>;
}

/** Id prefix of read events (reserved: only the read recorder's channel may use it). */
export const READ_EVENT_PREFIX = 'read:';
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,120}$/;

/** A request id usable in a read event's id. */
export function isReadRequestId(value: string): boolean {
  return REQUEST_ID.test(value);
}

/** The event input that records a read (validated by the ingest core like any other). */
export function readEventInput(read: ReadRecord): AuditEventInput {
  const roleSession = /:assumed-role\/|:role\//.test(read.principal);
  return {
    id: `${READ_EVENT_PREFIX}${read.requestId}`,
    eventTime: read.at,
    actor: { id: read.principal, type: roleSession ? 'role' : 'user' },
    action: read.action,
    ...(read.target ? { resource: { id: read.target.id, type: read.target.type } } : {}),
    outcome: { result: 'success' },
    requestId: read.requestId,
    endpoint: read.route,
    details: {
      route: read.route,
      resultCount: read.resultCount,
      ...(read.parameters === undefined ? {} : { parameters: { ...read.parameters } }),
    },
  };
}
