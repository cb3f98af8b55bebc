/**
 * The grammar of event ids, in a module of its own so that the modules the stored event schema depends on
 * (the profile version document, `shared/profiles/`) can use it without importing the schema itself.
 */

/**
 * Event ids: the producer's idempotency key. CloudTrail events use `ct:<eventID>`, Kubernetes audit events
 * `k8s:<auditID>`, detection alerts `det:…`, profile versions `pv:…` (each prefix is reserved to its channel).
 */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*$/;
export const MAX_EVENT_ID_LENGTH = 128;
