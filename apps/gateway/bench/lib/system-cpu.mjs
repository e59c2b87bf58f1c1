// Machine-wide CPU use over a window, from /proc/stat (Linux; null elsewhere), so a report can show
// how much of the machine other work took while a phase ran.
import { readFileSync } from 'node:fs';

/** Machine-wide CPU time from /proc/stat's first line, in USER_HZ ticks; null where /proc is missing. */
function machineTicks() {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq + steal, steal, iowait, idle };
  } catch {
    return null;
  }
}

/**
 * CPU use of the whole machine over a window, in cores (2 = both cores of a 2-core machine busy):
 * busy (steal included), steal (taken by the hypervisor) and iowait. USER_HZ is 100.
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
