/**
 * What a process tree holds, read from Linux's /proc: its processes (to find orphans a stopped stack left
 * behind) and its listening TCP sockets (to check the address each one is bound to).
 *
 * @example
 * const before = processTree(stack.stackPid, stack.serverPids);
 * // … stop the stack …
 * expect(stillRunning(before)).toEqual([]);
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One process, as /proc/<pid>/stat describes it. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Process group id. */
  readonly pgrp: number;
  /** `R`, `S`, `Z`… */
  readonly state: string;
  /** Start time in clock ticks since boot: with the pid, it names one process even if the pid is reused. */
  readonly startTime: string;
  readonly command: string;
}

/** Every process now, zombies included. */
export function processTable(): ProcessInfo[] {
  const table: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = processInfo(Number(entry));
    if (info !== undefined) table.push(info);
  }
  return table;
}

function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    // Fields after the command: state ppid pgrp session tty tpgid flags … starttime is field 22.
    const fields = stat.slice(close + 2).split(' ');
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      // gone meanwhile
    }
    return {
      pid,
      state: fields[0]!,
      ppid: Number(fields[1]),
      pgrp: Number(fields[2]),
      startTime: fields[19]!,
      command: command || stat.slice(stat.indexOf('(') + 1, close),
    };
  } catch {
    return undefined;
  }
}

/**
 * The live (non-zombie) processes of a stack: `root` and its descendants, and every member of the
 * process `groups` (servers run in groups of their own, and survive their parent only as orphans).
 */
export function processTree(root: number, groups: readonly number[]): ProcessInfo[] {
  const table = processTable().filter((p) => p.state !== 'Z');
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const inTree = new Set<number>();
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    if (inTree.has(pid)) continue;
    inTree.add(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  const groupSet = new Set(groups);
  return table.filter((p) => inTree.has(p.pid) || groupSet.has(p.pgrp));
}

/** The processes of `earlier` that still run (same pid and start time, not a zombie). */
export function stillRunning(earlier: readonly ProcessInfo[]): ProcessInfo[] {
  return earlier.filter((p) => {
    const now = processInfo(p.pid);
    return now !== undefined && now.startTime === p.startTime && now.state !== 'Z';
  });
}

/** Live processes in any of `groups`, whoever started them. */
export function groupMembers(groups: readonly number[]): ProcessInfo[] {
  const groupSet = new Set(groups);
  return processTable().filter((p) => p.state !== 'Z' && groupSet.has(p.pgrp));
}

/** A TCP socket in the LISTEN state. */
export interface Listener {
  /** `127.0.0.1`, `0.0.0.0`, `::`, `::ffff:127.0.0.1`, `::1`… */
  readonly address: string;
  readonly port: number;
  readonly pid: number;
}

/** The listening TCP sockets that the processes `pids` hold open. */
export function listeners(pids: readonly number[]): Listener[] {
  const owner = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode !== undefined) owner.set(inode, pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  const found: Listener[] = [];
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    let lines: string[];
    try {
      lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1]!, fields[3]!, fields[9]!];
      if (state !== '0A' || !owner.has(inode)) continue;
      const [hexAddress, hexPort] = local.split(':') as [string, string];
      found.push({
        address: v6 ? ipv6(hexAddress) : ipv4(hexAddress),
        port: Number.parseInt(hexPort, 16),
        pid: owner.get(inode)!,
      });
    }
  }
  return found;
}

/** /proc writes an IPv4 address as one little-endian 32-bit word in hex. */
function ipv4(hex: string): string {
  const bytes = Buffer.from(hex, 'hex').reverse();
  return [...bytes].join('.');
}

/** /proc writes an IPv6 address as four little-endian 32-bit words in hex. */
function ipv6(hex: string): string {
  const bytes = Buffer.concat(
    [0, 8, 16, 24].map((offset) => Buffer.from(hex.slice(offset, offset + 8), 'hex').reverse()),
  );
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  }
  if (bytes.every((b) => b === 0)) return '::';
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups
    .join(':')
    .replace(/^(0:)+0$/, '::')
    .replace(/^(0:)+1$/, '::1');
}

/** True for an address only this machine can reach. */
export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || /^::ffff:127\./.test(address) || address === '::1';
}
