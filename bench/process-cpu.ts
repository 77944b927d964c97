// CPU time from /proc (Linux), for benches that time whole processes: what a shared machine's
// load disturbs far less than wall time. Clock ticks of 10 ms (USER_HZ = 100 on Linux).
import { readFileSync } from 'node:fs';

export const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime (own: fields 14-15) or cutime + cstime (reaped children: 16-17) of `pid`, in ms. */
function statCpuMs(pid: number | 'self', children: boolean): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after "(comm)" start at field 3 (state); utime is field 14 (1-based, proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = children ? 13 : 11;
  return (Number(fields[at]) + Number(fields[at + 1])) * (1000 / CLOCK_TICKS_PER_SECOND);
}

/** CPU time of this process's reaped children in ms; undefined off Linux. */
export function childrenCpuMs(): number | undefined {
  return statCpuMs('self', true);
}

/** CPU time process `pid` has used so far in ms (e.g. a daemon serving the commands timed); undefined off Linux. */
export function processCpuMs(pid: number): number | undefined {
  return statCpuMs(pid, false);
}
