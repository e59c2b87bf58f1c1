// Process and thread figures from /proc (Linux; null or undefined elsewhere).
import { readFileSync } from 'node:fs';

/**
 * The fields of /proc/<path>/stat after the command name (state, ppid, …), or undefined where it
 * cannot be read (no /proc, or the process is gone). `path` is a pid, or `pid/task/tid` for a thread.
 */
export function statFields(path) {
  try {
    const text = readFileSync(`/proc/${path}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** { user, system } CPU seconds of a process or thread (USER_HZ is 100 on Linux), or null. */
export function cpuTimesOf(path) {
  const fields = statFields(path);
  return fields ? { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 } : null;
}

/** utime+stime of a process or thread in seconds, or null. */
export function cpuSecondsOf(path) {
  const times = cpuTimesOf(path);
  return times && times.user + times.system;
}

/** The pids of a process's children. */
export function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
