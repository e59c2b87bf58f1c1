// CPU meters from /proc (Linux; null elsewhere) and the machine's load average; the machine's own
// CPU meter is lib/system-cpu.mjs.
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
