// CPU meters from /proc (Linux; null elsewhere) and the machine's load average.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { cpuTimesOf } from '../lib/proc.mjs';

/** [1, 5, 15]-minute load averages, rounded. */
export const loadAverage = () => loadavg().map((v) => Math.round(v * 100) / 100);

/**
 * CPU use of a process (or, with mainThread, of its main thread: the event loop) over a window,
 * in percent of one core: percent() the total, split() user and system (kernel: syscalls).
 */
export function cpuMeter(pid, { mainThread = false } = {}) {
  const path = mainThread ? `${pid}/task/${pid}` : String(pid);
  const cpu0 = cpuTimesOf(path);
  const t0 = performance.now();
  const split = () => {
    const cpu1 = cpuTimesOf(path);
    if (cpu0 === null || cpu1 === null) return null;
    const seconds = (performance.now() - t0) / 1000;
    const pct = (v) => Math.round((v / seconds) * 1000) / 10;
    return { user: pct(cpu1.user - cpu0.user), system: pct(cpu1.system - cpu0.system), total: pct(cpu1.user - cpu0.user + cpu1.system - cpu0.system) };
  };
  return { split, percent: () => split()?.total ?? null };
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
