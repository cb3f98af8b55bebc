/**
 * A function's environment and its permissions, set together (STYLE.md rule 3): every variable that names
 * a resource is set by `withEnv` along with the grant that makes it usable, so a function never holds a
 * name it cannot use, nor a permission it has no name for. The variables are the ones the handlers'
 * configuration schemas read (functions/config.ts, functions/sealing-runtime.ts).
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { AlarmTopic } from './alarm-topic.ts';
import type { RouteAccess } from './api-routes.ts';
import type { CursorKey } from './cursor-key.ts';
import type { DigestBucket } from './digest-bucket.ts';
import type { LedgerTable } from './ledger-table.ts';
import type { ReadJournal } from './read-journal.ts';
import type { SigningKey } from './signing-key.ts';

/** The ledger's fixed settings, the same for every function. */
export interface LedgerSettings {
  /** Ledger id (`a-z 0-9 -`, 1–63), part of every key and object name. */
  readonly ledger: string;
  /** Sealing period, dividing a day. */
  readonly periodSeconds: number;
  /** Wait after a period's end before it is sealed; longer than any writer's timeout. */
  readonly graceSeconds: number;
  /** Event partitions per period. */
  readonly shards: number;
}

/** The stateful resources functions are given access to. */
export interface LedgerResources {
  readonly ledger: LedgerTable;
  readonly digests: DigestBucket;
  readonly signingKey: SigningKey;
  readonly alarms: AlarmTopic;
  readonly readJournal: ReadJournal;
  readonly cursorKey: CursorKey;
  readonly settings: LedgerSettings;
}

/** One thing a function may do, with the variable that names its resource. */
export type Capability =
  | 'ledger-read'
  | 'ledger-append'
  | 'ledger-search'
  | 'digests-read'
  | 'digests-write'
  | 'sign'
  | 'public-key'
  | 'alarm-publish'
  | 'read-journal'
  | 'cursor-key';

/** The access of an API route's function, or of the sealing functions. */
export type FunctionAccess = RouteAccess | 'seal';

/** What each kind of function may do. Nothing here can update or delete a ledger item or an object. */
export const ACCESS_CAPABILITIES: Readonly<Record<FunctionAccess, readonly Capability[]>> = {
  ingest: ['ledger-append', 'sign'],
  query: ['ledger-read', 'digests-read', 'read-journal'],
  search: ['ledger-read', 'ledger-search', 'read-journal', 'cursor-key'],
  audit: ['ledger-read', 'digests-read', 'public-key', 'read-journal'],
  seal: ['ledger-append', 'digests-write', 'sign'],
};

/**
 * Sets an environment variable and the grant that goes with it.
 * @example withEnv(fn, 'AUDITSEAL_TABLE', ledger.tableName, (g) => ledger.grantAppend(g));
 */
export function withEnv(
  fn: lambda.Function,
  name: string,
  value: string,
  grant: (grantee: iam.IGrantable) => iam.Grant,
): void {
  fn.addEnvironment(name, value);
  grant(fn);
}

/** Sets a plain setting: a value that names no resource, so it needs no grant. */
export function withSetting(fn: lambda.Function, name: string, value: string | number): void {
  fn.addEnvironment(name, String(value));
}

/** Gives a function the settings and every capability of its access (plus `extra` ones). */
export function grantAccess(
  fn: lambda.Function,
  access: FunctionAccess,
  resources: LedgerResources,
  extra: readonly Capability[] = [],
): void {
  const { settings } = resources;
  withSetting(fn, 'AUDITSEAL_LEDGER', settings.ledger);
  withSetting(fn, 'AUDITSEAL_PERIOD_SECONDS', settings.periodSeconds);
  withSetting(fn, 'AUDITSEAL_GRACE_SECONDS', settings.graceSeconds);
  withSetting(fn, 'AUDITSEAL_SHARDS', settings.shards);
  for (const capability of [...ACCESS_CAPABILITIES[access], ...extra]) {
    withCapability(fn, capability, resources);
  }
}

function withCapability(fn: lambda.Function, capability: Capability, r: LedgerResources): void {
  switch (capability) {
    case 'ledger-read':
      withEnv(fn, 'AUDITSEAL_TABLE', r.ledger.tableName, (g) => r.ledger.grantRead(g));
      break;
    case 'ledger-search':
      withEnv(fn, 'AUDITSEAL_TABLE', r.ledger.tableName, (g) => r.ledger.grantSearch(g));
      break;
    case 'ledger-append':
      withEnv(fn, 'AUDITSEAL_TABLE', r.ledger.tableName, (g) => r.ledger.grantAppend(g));
      break;
    case 'digests-read':
      withEnv(fn, 'AUDITSEAL_BUCKET', r.digests.bucketName, (g) => r.digests.grantRead(g));
      break;
    case 'digests-write':
      withEnv(fn, 'AUDITSEAL_BUCKET', r.digests.bucketName, (g) => r.digests.grantWrite(g));
      break;
    case 'sign':
      withEnv(fn, 'AUDITSEAL_KMS_KEY_ID', r.signingKey.keyArn, (g) => r.signingKey.grantSign(g));
      break;
    case 'public-key':
      withEnv(fn, 'AUDITSEAL_KMS_KEY_ID', r.signingKey.keyArn, (g) => r.signingKey.grantPublicKey(g));
      break;
    case 'alarm-publish':
      withEnv(fn, 'AUDITSEAL_ALARM_TOPIC', r.alarms.topicArn, (g) => r.alarms.grantPublish(g));
      break;
    case 'read-journal':
      withEnv(fn, 'AUDITSEAL_READ_QUEUE_URL', r.readJournal.queueUrl, (g) => r.readJournal.grantSend(g));
      break;
    case 'cursor-key':
      withEnv(fn, 'AUDITSEAL_CURSOR_MAC_KEY_ID', r.cursorKey.keyArn, (g) => r.cursorKey.grantDerive(g));
      break;
  }
}
