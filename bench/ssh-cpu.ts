// CPU seconds spent on one SSH transfer, on each side, for bench:ssh. Wall-clock rates on a
// machine shared with other work swing by ±25 % between runs; the CPU a transfer costs does not,
// so the bench prints both: the rate a user sees and the work behind it.
//
// Both sides are counted the same way, from /proc (Linux):
//   client: the measured command (ssh or gate) is this process's child, so once reaped its CPU
//           is in this process's cutime + cstime;
//   server: the long-lived children of this process (the gatehouse daemon(s) or the sshd
//           listener) with their reaped children (sshd's session process, the `head` both run).
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ), 100 on every Linux Node supports. */
const USER_HZ = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime: the process's own CPU, in seconds. */
  own: number;
  /** cutime + cstime: its reaped children's, in seconds. */
  children: number;
}

function readStat(pid: number | 'self'): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited while we looked
  }
  // The fields after the command name, which may hold spaces and parentheses (proc(5)).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (i: number) => Number(f[i]) / USER_HZ;
  return { ppid: Number(f[1]), own: ticks(11) + ticks(12), children: ticks(13) + ticks(14) };
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** CPU seconds so far of this process's children: the reaped ones, and live ones whose command line matches. */
export interface CpuSnapshot {
  /** Reaped children of this process (the measured client commands). */
  reaped: number;
  /** Live children matching `serverCommand`, their reaped children included. */
  server: number;
}

export function cpuSnapshot(serverCommand: RegExp): CpuSnapshot {
  const self = readStat('self');
  if (!self) throw new Error('cannot read /proc/self/stat: bench:ssh counts CPU on Linux only');
  let server = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = readStat(pid);
    if (stat?.ppid !== process.pid || !serverCommand.test(commandLine(pid))) continue;
    server += stat.own + stat.children;
  }
  return { reaped: self.children, server };
}

/** Client and server CPU seconds between two snapshots. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): { client: number; server: number } {
  return { client: after.reaped - before.reaped, server: after.server - before.server };
}
