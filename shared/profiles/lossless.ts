/**
 * Source records read without loss (`shared/events/json-text.ts`) hold every number as a lossless-json
 * `LosslessNumber`. A profile is plain JSON whose numbers are doubles (its bytes are RFC 8785 JCS), so
 * each number that a double holds exactly becomes that double; one that it cannot hold (beyond 2^53,
 * more digits than a double keeps, `1e400`) stays a `LosslessNumber`, which the profile guard refuses.
 * Nothing is ever rounded on the way in.
 */
import { isSafeNumber } from 'lossless-json';
import { isPlainObject } from '../events/json-guard.ts';
import { isLosslessNumber } from '../events/json-text.ts';

/** A copy of `value` with every exactly representable number as a number. */
export function withExactNumbers(value: unknown): unknown {
  if (isLosslessNumber(value)) return isSafeNumber(value.value) ? Number(value.value) : value;
  if (Array.isArray(value)) return value.map(withExactNumbers);
  if (isPlainObject(value)) {
    // Null prototype: a member named `__proto__` stays an own member, for the guard to refuse.
    const copy = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value)) copy[key] = withExactNumbers(value[key]);
    return copy;
  }
  return value;
}

/** True when `value` still holds a number that no double holds exactly. */
export function holdsInexactNumber(value: unknown): boolean {
  if (isLosslessNumber(value)) return true;
  if (Array.isArray(value)) return value.some(holdsInexactNumber);
  if (isPlainObject(value)) return Object.values(value).some(holdsInexactNumber);
  return false;
}
