// Machine-wide CPU use between two moments, from /proc/stat (Linux; null elsewhere), so a report
// can show how much of the machine other work took while a phase ran.
import { readFileSync } from 'node:fs';

/** A snapshot of the aggregate "cpu" line of /proc/stat, in USER_HZ ticks. */
export function systemCpuSnapshot() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return { at: process.hrtime.bigint(), busy: user + nice + system + irq + softirq + steal, iowait, idle };
  } catch {
    return null;
  }
}

/** Cores busy (all processes) and cores waiting on I/O between two snapshots (USER_HZ is 100). */
export function systemCpuBetween(before, after) {
  if (!before || !after) return null;
  const seconds = Number(after.at - before.at) / 1e9;
  if (seconds <= 0) return null;
  return {
    busyCores: Math.round(((after.busy - before.busy) / 100 / seconds) * 100) / 100,
    iowaitCores: Math.round(((after.iowait - before.iowait) / 100 / seconds) * 100) / 100,
  };
}
