/**
 * What an event's `sourceIp` may hold: an IP literal, or a DNS host name, because CloudTrail records
 * the calling service's host name (`cloudformation.amazonaws.com`) when an AWS service made the call.
 */
import { isIP } from 'node:net';

/** Longest IP literal accepted (an IPv6 address with a zone index fits). */
export const MAX_IP_LITERAL_LENGTH = 64;
/** Longest host name accepted (RFC 1035 §2.3.4 limit on a name's text form). */
export const MAX_HOSTNAME_LENGTH = 253;

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const LETTER = /[A-Za-z]/;

/** True for an IPv4 or IPv6 literal (RFC 4291 §2.2, zone index allowed). IPv4 parts with leading zeros are not literals. */
export function isIpLiteral(value: string): boolean {
  return value.length <= MAX_IP_LITERAL_LENGTH && isIP(value) !== 0;
}

/**
 * True for a DNS host name whose last label has a letter (RFC 3696 §2: a top-level domain is never
 * all-numeric), so malformed dotted quads such as `253.252.51.07` are not host names either.
 */
export function isHostName(value: string): boolean {
  if (value.length === 0 || value.length > MAX_HOSTNAME_LENGTH) return false;
  const labels = value.split('.');
  return labels.every((label) => LABEL.test(label)) && LETTER.test(labels[labels.length - 1]!);
}

/** True when `value` may be stored as an event's `sourceIp`. */
export function isSourceAddress(value: string): boolean {
  return isIpLiteral(value) || isHostName(value);
}
