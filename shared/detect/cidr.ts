/**
 * The `cidr` modifier: IPv4 and IPv6 networks, parsed as Python's `ipaddress.ip_network` (strict) parses
 * them in pySigma (`SigmaCIDRExpression`): a bare address is a /32 or /128, and host bits must be zero.
 * An address matches a network of its own family only (`::ffff:10.0.0.1` is not in `10.0.0.0/8`).
 */
import { isIP } from 'node:net';
import { SigmaRuleError } from './errors.ts';

/** A parsed network: its family, its prefix length and its address bits shifted down to the prefix. */
export interface CidrNetwork {
  readonly text: string;
  readonly family: 4 | 6;
  readonly prefix: number;
  readonly networkBits: bigint;
}

/** Parses a CIDR value of a rule. Throws `SigmaRuleError('INVALID_RULE')`. */
export function parseCidr(text: string, path: string): CidrNetwork {
  const invalid = (why: string): never => {
    throw new SigmaRuleError('INVALID_RULE', path, `"${text}" is not a CIDR network: ${why}`);
  };
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = addressFamily(address);
  if (family === undefined) return invalid('not an IPv4 or IPv6 address');
  const width = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(width) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > width) return invalid('bad prefix length');
  const prefix = Number(prefixText);
  const bits = addressBits(address, family);
  const shift = BigInt(width - prefix);
  if (bits & ((1n << shift) - 1n)) return invalid('host bits are set');
  return { text, family, prefix, networkBits: bits >> shift };
}

/** True when `candidate` is an IP address inside `network`. */
export function inNetwork(candidate: string, network: CidrNetwork): boolean {
  if (addressFamily(candidate) !== network.family) return false;
  const width = network.family === 4 ? 32 : 128;
  return addressBits(candidate, network.family) >> BigInt(width - network.prefix) === network.networkBits;
}

/** 4 or 6 for an address literal (no zone index, no leading zeros in IPv4), else undefined. */
function addressFamily(text: string): 4 | 6 | undefined {
  if (text.length > 45 || text.includes('%')) return undefined;
  const family = isIP(text);
  return family === 4 || family === 6 ? family : undefined;
}

function addressBits(text: string, family: 4 | 6): bigint {
  if (family === 4) return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(part), 0n);
  let s = text;
  if (s.includes('.')) {
    // A trailing dotted quad stands for the last two groups.
    const at = s.lastIndexOf(':') + 1;
    const quad = Number(addressBits(s.slice(at), 4));
    s = `${s.slice(0, at)}${(quad >>> 16).toString(16)}:${(quad & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const headGroups = head.length === 0 ? [] : head.split(':');
  const tailGroups = tail === undefined || tail.length === 0 ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
          ...tailGroups,
        ];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}
