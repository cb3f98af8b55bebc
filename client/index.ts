/**
 * `auditseal/client`: the typed client for apps. It signs with SigV4 (service `execute-api`), posts
 * events in batches within the API's limits, retries with the same event ids, and verifies receipts
 * against pinned keys. Usage and error handling: docs/CLIENT.md.
 */

export type { Receipt } from '../shared/ledger/formats.ts';
export {
  AuditsealClient,
  type AuditsealClientOptions,
  type BatchProgress,
  type PostEventsOptions,
  pathOf,
  type RequestOptions,
  type RetryInfo,
} from './auditseal-client.ts';
export { type BatchLimits, MAX_BATCH_EVENTS, MAX_REQUEST_BYTES, splitIntoBatches } from './batches.ts';
export {
  type AnyAuditsealError,
  AuditsealApiError,
  AuditsealConfigError,
  AuditsealError,
  type AuditsealErrorKind,
  AuditsealInputError,
  AuditsealNetworkError,
  AuditsealPostError,
  AuditsealReceiptError,
  AuditsealResponseError,
  type InputProblem,
  isAuditsealError,
} from './errors.ts';
export { type PinnedKeys, type ReceiptCheck, verifyReceipt } from './receipts.ts';
export type {
  AlarmList,
  DigestDescription,
  DigestList,
  DigestSummary,
  KeyList,
  PostEventsResult,
} from './responses.ts';
export type { RetryPolicy } from './retry.ts';
export type { Credentials, CredentialsSource, Query } from './signing.ts';
export {
  defaultCredentials,
  LOCAL_STACK_FILE,
  localStackTarget,
  type Role,
  readLocalStack,
  regionOfEndpoint,
  type Target,
} from './targets.ts';
