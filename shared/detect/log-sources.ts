/**
 * Sigma `logsource` against the sources auditseal takes in, and the record each source's fields resolve
 * against.
 *
 * | source | Sigma logsource | fields resolve against |
 * | --- | --- | --- |
 * | CloudTrail | `product: aws`, `service: cloudtrail` | the verbatim CloudTrail record |
 * | Kubernetes audit | `product: kubernetes`, `service: audit` (`category: application` allowed) | the verbatim `audit.k8s.io` Event |
 * | an app's events | `product: <the app's>`, `service: <the app's>` (`category: application` allowed) | the stored audit event |
 *
 * An app names its product and service with the event tags `sigma.product` and `sigma.service`; without
 * them its events are `product: auditseal`, `service: events`. `aws` and `kubernetes` are reserved: an
 * app event that claims them keeps the defaults. A rule whose logsource matches none of these is refused
 * at load (`UNKNOWN_LOGSOURCE`): it could never match anything.
 */
import { SigmaRuleError } from './errors.ts';

export type SourceKind = 'cloudtrail' | 'kubernetes' | 'app';

/** A rule's `logsource`, lower-cased. `definition` is free text and plays no part in matching. */
export interface RuleLogSource {
  readonly category?: string;
  readonly product?: string;
  readonly service?: string;
}

/** Where a rule applies: a source kind and, for apps, the product and (optionally) the service. */
export interface RuleScope {
  readonly kind: SourceKind;
  /** App rules only: the product they name. */
  readonly product?: string;
  /** App rules only, when the rule names a service. */
  readonly service?: string;
}

/** An event's source, as the detector sees it. */
export interface EventSource {
  readonly kind: SourceKind;
  readonly product: string;
  readonly service: string;
}

export const CLOUDTRAIL_SOURCE: EventSource = Object.freeze({
  kind: 'cloudtrail',
  product: 'aws',
  service: 'cloudtrail',
});
export const KUBERNETES_SOURCE: EventSource = Object.freeze({
  kind: 'kubernetes',
  product: 'kubernetes',
  service: 'audit',
});
export const DEFAULT_APP_PRODUCT = 'auditseal';
export const DEFAULT_APP_SERVICE = 'events';
/** Event tags through which an app names its Sigma product and service. */
export const APP_PRODUCT_TAG = 'sigma.product';
export const APP_SERVICE_TAG = 'sigma.service';
const RESERVED_PRODUCTS = new Set(['aws', 'kubernetes']);

/** The scope of a rule's logsource. Throws `SigmaRuleError('UNKNOWN_LOGSOURCE')` when nothing could match. */
export function scopeOf(logsource: RuleLogSource): RuleScope {
  const { category, product, service } = logsource;
  const describe = JSON.stringify(logsource);
  const refuse = (why: string): never => {
    throw new SigmaRuleError('UNKNOWN_LOGSOURCE', 'logsource', `logsource ${describe} ${why}`);
  };
  if (product === undefined) return refuse('names no product; auditseal matches rules to sources by product');
  if (product === 'aws') {
    if (category !== undefined) return refuse('has a category; CloudTrail records have none');
    if (service !== undefined && service !== 'cloudtrail')
      return refuse('names an AWS service other than cloudtrail; auditseal takes in CloudTrail only');
    return { kind: 'cloudtrail' };
  }
  if (category !== undefined && category !== 'application') {
    return refuse('has a category other than "application"');
  }
  if (product === 'kubernetes') {
    if (service !== undefined && service !== 'audit')
      return refuse('names a Kubernetes service other than audit; auditseal takes in audit events only');
    return { kind: 'kubernetes' };
  }
  return service === undefined ? { kind: 'app', product } : { kind: 'app', product, service };
}

/** The app source an event's tags name, with the defaults and the reserved products applied. */
export function appSourceOf(tags: unknown): EventSource {
  const tag = (key: string): string | undefined => {
    if (typeof tags !== 'object' || tags === null || !Object.hasOwn(tags, key)) return undefined;
    const value = (tags as Record<string, unknown>)[key];
    return typeof value === 'string' && value.length > 0 ? value.toLowerCase() : undefined;
  };
  const named = tag(APP_PRODUCT_TAG);
  const product = named === undefined || RESERVED_PRODUCTS.has(named) ? DEFAULT_APP_PRODUCT : named;
  const service = (product === named ? tag(APP_SERVICE_TAG) : undefined) ?? DEFAULT_APP_SERVICE;
  return { kind: 'app', product, service };
}
