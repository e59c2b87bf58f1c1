// Process figures from /proc (Linux; null elsewhere) and the machine's load average.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** utime+stime of a process in seconds (USER_HZ is 100 on Linux), or null. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Resident set size of a process in bytes, or null. */
export function rssOf(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** [1, 5, 15]-minute load averages, rounded. */
export const loadAverage = () => loadavg().map((v) => Math.round(v * 100) / 100);

/** CPU use of a process over a window: start() then percent() (100 = one core busy). */
export function cpuMeter(pid) {
  const cpu0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  return {
    percent() {
      const cpu1 = cpuSecondsOf(pid);
      if (cpu0 === null || cpu1 === null) return null;
      return Math.round(((cpu1 - cpu0) / ((performance.now() - t0) / 1000)) * 1000) / 10;
    },
  };
}

/** Machine-wide CPU time from /proc/stat's first line, in USER_HZ ticks; null where /proc is missing. */
function machineTicks() {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq + steal, steal, iowait, idle };
  } catch {
    return null;
  }
}

/**
 * CPU use of the whole machine over a window, in cores (2 = both cores of a 2-core machine busy):
 * busy (steal included), steal (taken by the hypervisor) and iowait.
 */
export function machineMeter() {
  const t0 = machineTicks();
  const w0 = performance.now();
  return {
    cores() {
      const t1 = machineTicks();
      if (!t0 || !t1) return null;
      const seconds = (performance.now() - w0) / 1000;
      const cores = (ticks) => Math.round((ticks / 100 / seconds) * 100) / 100;
      return { busy: cores(t1.busy - t0.busy), steal: cores(t1.steal - t0.steal), iowait: cores(t1.iowait - t0.iowait) };
    },
  };
}
