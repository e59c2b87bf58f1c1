// Parent side of the load generator (streamer.mjs): forks it as a separate Node process, talks
// to it over IPC, and always tears it down (also from a process 'exit' hook after a crash).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const STREAMER_JS = fileURLToPath(new URL('./streamer.mjs', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

const live = new Set();

/** Synchronous last resort for process 'exit'. */
export function killStreamersSync() {
  for (const streamer of live) {
    try {
      if (streamer.child.exitCode === null && streamer.child.signalCode === null) streamer.child.kill('SIGKILL');
    } catch {}
    live.delete(streamer);
  }
}

/**
 * Starts the load generator, hands it to `use`, and stops it afterwards, whether `use`
 * succeeded or threw.
 */
export async function withStreamer(use) {
  const streamer = await startStreamer();
  try {
    return await use(streamer);
  } finally {
    await streamer.stop();
  }
}

export async function startStreamer() {
  const child = fork(STREAMER_JS, [], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: process.env.PATH ?? '' } });
  const tail = [];
  child.stderr.on('data', (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line) tail.push(line);
    while (tail.length > 20) tail.shift();
  });
  const pending = new Map();
  let nextId = 1;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(({ code, signal }) => {
    for (const { reject } of pending.values()) reject(new Error(`the streamer exited (code ${code}, signal ${signal})\n${tail.join('\n')}`));
    pending.clear();
  });

  let stopped = null;
  const streamer = {
    child,
    pid: child.pid,
    /** Sends a command and resolves with its answer. */
    request(type, payload = {}, timeoutMs = 120_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`the streamer did not answer ${type} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => (clearTimeout(timer), resolve(value)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
        child.send({ id, type, ...payload });
      });
    },
    open: (streams, concurrency = 16) => streamer.request('open', { streams, concurrency }),
    stats: (reset = false) => streamer.request('stats', { reset }, 10_000),
    pause: (keys) => streamer.request('pause', { keys }, 10_000),
    close: (keys) => streamer.request('close', keys ? { keys } : {}, 30_000),
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            await streamer.close();
          } catch {}
          child.disconnect?.();
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        live.delete(streamer);
      })();
      return stopped;
    },
  };
  live.add(streamer);

  child.on('message', (message) => {
    if (message?.id === undefined) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message);
    else waiter.reject(new Error(`streamer: ${message.error}`));
  });

  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the streamer did not start')), READY_TIMEOUT_MS);
      child.on('message', (message) => {
        if (message?.ready) {
          clearTimeout(timer);
          resolve();
        }
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`the streamer exited during start-up (code ${code}, signal ${signal})\n${tail.join('\n')}`));
      });
    });
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    live.delete(streamer);
    throw error;
  }
  return streamer;
}
