import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of a whole process in nanoseconds: the sum of every thread's
 * on-CPU time from /proc/<pid>/task/<tid>/schedstat (ns resolution, unlike
 * the 10 ms ticks of /proc/<pid>/stat). GC and libuv threads included.
 */
export function processCpuNs(pid: number): number {
  let total = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return statCpuNs(pid);
  }
  for (const tid of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return total;
}

/** Fallback: utime + stime from /proc/<pid>/stat, in ns (10 ms resolution). */
function statCpuNs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e7;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
