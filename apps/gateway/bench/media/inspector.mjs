// The gateway's inspector (it is started with --inspect=127.0.0.1:0), used for two things only,
// and never during a measurement window:
//  - collectGarbage: a full GC before RSS is read. Without it RSS mostly measures garbage: the idle
//    gateway holds ~0.4 GB of start-up garbage (PGlite) until its first major GC;
//  - cpuProfile: a sampled CPU profile (the Profiler domain), taken last, since profiling and
//    serialising the profile stall the gateway's event loop for up to seconds.
import WebSocket from 'ws';

export const INSPECT_ARG = '--inspect=127.0.0.1:0';
const LISTENING = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/;

/**
 * The inspectors of the gateway's processes, read from its stderr: the gateway's own, then its media
 * shards' (they inherit its --inspect flag), each with the pid it answers for.
 */
export async function inspectors(gateway) {
  const urls = [...gateway.outputTail().matchAll(new RegExp(LISTENING.source, 'g'))].map((match) => match[1]);
  return Promise.all([...new Set(urls)].map(async (url) => ({ url, pid: await pidOf(url) })));
}

/** The pid of the process behind an inspector. */
async function pidOf(url) {
  const cdp = await session(url);
  try {
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'process.pid', returnByValue: true });
    return result.value;
  } finally {
    cdp.close();
  }
}

/** A Chrome DevTools Protocol session over the inspector WebSocket at `url`. */
async function session(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
    else waiter.resolve(message.result);
  });
  return {
    send(method, params = {}, timeoutMs = 60_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method} timed out`));
        }, timeoutMs);
        pending.set(id, {
          method,
          resolve: (value) => (clearTimeout(timer), resolve(value)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    close: () => ws.terminate(),
  };
}

/** Runs HeapProfiler.collectGarbage in the process behind `url`; resolves with the ms it took. */
export async function collectGarbage(url) {
  const cdp = await session(url);
  try {
    const started = performance.now();
    await cdp.send('HeapProfiler.collectGarbage');
    return performance.now() - started;
  } finally {
    cdp.close();
  }
}

/** Samples the CPU of the process behind `url` for `ms` (every `intervalUs`); resolves with the profile. */
export async function cpuProfile(url, ms, intervalUs = 500) {
  const cdp = await session(url);
  try {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await cdp.send('Profiler.start');
    await new Promise((resolve) => setTimeout(resolve, ms));
    const { profile } = await cdp.send('Profiler.stop');
    await cdp.send('Profiler.disable');
    return profile;
  } finally {
    cdp.close();
  }
}
