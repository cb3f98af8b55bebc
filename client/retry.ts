/**
 * When and how long to wait before sending the same request again. Exponential backoff with full jitter
 * (the AWS SDKs' "standard" retry mode), raised to the server's `Retry-After` when it sends one.
 */

export interface RetryPolicy {
  /** Attempts in all, the first one included. 1 disables retries. */
  readonly maxAttempts: number;
  /** Upper bound of the first wait; it doubles with each attempt. */
  readonly baseDelayMs: number;
  /** No wait is longer than this, `Retry-After` included. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

/** Checks a policy once, when the client is built. */
export function retryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...partial };
  if (!Number.isSafeInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > 20) {
    throw new RangeError(`retry.maxAttempts must be a whole number from 1 to 20, got ${policy.maxAttempts}`);
  }
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    const value = policy[name];
    if (!Number.isFinite(value) || value < 0 || value > 300_000) {
      throw new RangeError(`retry.${name} must be from 0 to 300000 ms, got ${value}`);
    }
  }
  return policy;
}

/**
 * Wait before attempt `attempt + 1` (attempt counts from 1). `random` is in [0, 1).
 * `retryAfterSeconds` comes from the server and only ever lengthens the wait, up to `maxDelayMs`.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: number,
  retryAfterSeconds?: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.floor(random * ceiling);
  const floor =
    retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0
      ? Math.min(policy.maxDelayMs, retryAfterSeconds * 1000)
      : 0;
  return Math.max(jittered, floor);
}

/** `Retry-After` in seconds (delta-seconds form only; an HTTP date is ignored). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
