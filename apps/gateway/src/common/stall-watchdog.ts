import { url as inspectorUrl } from 'node:inspector';
import { Worker } from 'node:worker_threads';

/** How long the event loop may go without a turn before the process is ended. */
export const STALL_LIMIT_MS = 30_000;

// Runs on its own thread, so it sees the main thread's beats stop whatever that thread is stuck in.
// Imported, not required: the code is a module or a script as the process's first one was.
const WATCHER = `
(async () => {
const { writeSync } = await import('node:fs');
const { workerData } = await import('node:worker_threads');
const beats = new Int32Array(workerData.beats);
// performance.now(): the wall clock jumps (a VM resumed, an NTP step), which is no stall.
let seen = Atomics.load(beats, 0);
let since = performance.now();
setInterval(() => {
  const now = Atomics.load(beats, 0);
  if (now !== seen) {
    seen = now;
    since = performance.now();
  } else if (performance.now() - since >= workerData.limitMs) {
    const line = { level: 60, time: new Date().toISOString(), service: 'mpc-gateway', stalled_ms: Math.round(performance.now() - since), msg: workerData.message };
    writeSync(1, JSON.stringify(line) + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, Math.min(1000, workerData.limitMs / 4));
})();
`;

/**
 * Ends the process (SIGKILL) once its event loop has not turned for `limitMs`. The embedded
 * database can spin for good inside one call (a WAL write on a full disk), where no timer and no
 * signal handler runs, SIGTERM's included: a supervisor restarts a process that ended, not one that
 * hangs, and the restart recovers what was live. Not while a debugger is attached, which pauses the
 * loop on purpose.
 */
export function watchEventLoop(limitMs = STALL_LIMIT_MS): { stop(): Promise<void> } {
  if (inspectorUrl() !== undefined) return { stop: async () => undefined };
  const beats = new Int32Array(new SharedArrayBuffer(4));
  const beat = setInterval(() => Atomics.add(beats, 0, 1), Math.min(1000, limitMs / 4));
  beat.unref();
  const message = `the event loop made no progress for ${limitMs / 1000} s (the database may be stuck, e.g. on a full disk): ending the process so that it can be restarted`;
  const watcher = new Worker(WATCHER, { eval: true, workerData: { beats: beats.buffer, limitMs, message } });
  watcher.unref();
  return {
    stop: async () => {
      clearInterval(beat);
      await watcher.terminate();
    },
  };
}
