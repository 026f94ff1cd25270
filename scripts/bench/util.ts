/** Small shared helpers of the RTMP benchmark (clock, statistics, /proc readings). */
import * as fs from 'node:fs';
import { RtmpState, type RtmpPublisher } from '../../runtime/media/rtmp';

/**
 * Wall-clock milliseconds with sub-ms resolution (performance.timeOrigin + performance.now()).
 * Comparable between processes on one machine up to a small offset, which bench-rtmp measures
 * over IPC and removes (see syncClock in bench-rtmp.ts).
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k];
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function sortNum(xs: number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

const CLK_TCK = 100; // Linux USER_HZ

/** utime + stime of a process in seconds from /proc/<pid>/stat (10 ms resolution); undefined if gone. */
export function procCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 (utime) and 15 (stime)
  } catch {
    return undefined;
  }
}

/** VmRSS of a process in MB. */
export function procRssMB(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function loadAvg(): string {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

export function fmt(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** Machine-wide CPU jiffies from /proc/stat: busy (everything but idle and iowait) and total. */
export function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Busy share of the whole machine between two machineCpu() readings, in "cores" (0..ncpu). */
export function busyCores(a: ReturnType<typeof machineCpu>, b: ReturnType<typeof machineCpu>, ncpu: number): number {
  if (!a || !b || b.total <= a.total) return NaN;
  return ((b.busy - a.busy) / (b.total - a.total)) * ncpu;
}

/**
 * Scheduler accounting of all threads of a process, in seconds, from
 * /proc/<pid>/task/<tid>/schedstat (ns; threads that already exited are not counted):
 * `run` = time on a CPU, `wait` = time runnable but waiting for a CPU (run-queue delay).
 */
export function procSched(pid: number | 'self' | undefined): { run: number; wait: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    let run = 0;
    let wait = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const f = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
        run += Number(f[0]);
        wait += Number(f[1]);
      } catch {
        /* thread gone */
      }
    }
    return { run: run / 1e9, wait: wait / 1e9 };
  } catch {
    return undefined;
  }
}

export function procSchedSeconds(pid: number | 'self' | undefined): number | undefined {
  return procSched(pid)?.run;
}

/** Resolves undefined when `pub` reaches `want`, or a reason (ERROR with its code, or a timeout). */
export function waitState(pub: RtmpPublisher, want: RtmpState, timeoutMs: number): Promise<string | undefined> {
  if (pub.state === want) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pub.off('state', on);
      resolve(`state ${want} not reached within ${timeoutMs} ms (now ${pub.state})`);
    }, timeoutMs);
    const on = (s: RtmpState, _old: RtmpState, code?: number, reason?: string) => {
      if (s === want) {
        clearTimeout(timer);
        pub.off('state', on);
        resolve(undefined);
      } else if (s === RtmpState.ERROR) {
        clearTimeout(timer);
        pub.off('state', on);
        resolve(`ERROR ${code}: ${reason}`);
      }
    };
    pub.on('state', on);
  });
}
