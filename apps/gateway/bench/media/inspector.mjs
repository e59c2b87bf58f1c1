// Forces a full garbage collection in the gateway through its inspector (the gateway is started
// with --inspect=127.0.0.1:0; nothing else is done over the connection). Without it, RSS readings
// mostly measure garbage: the idle gateway holds ~0.8 GB of start-up garbage (PGlite) until the
// first major GC. Used only between measurement windows, never during one.
import WebSocket from 'ws';

export const INSPECT_ARG = '--inspect=127.0.0.1:0';
const LISTENING = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/;

/** The inspector's WebSocket URL, read from the gateway's stderr; null when it is not there. */
export function inspectorUrl(gateway) {
  return LISTENING.exec(gateway.outputTail())?.[1] ?? null;
}

/** Runs HeapProfiler.collectGarbage in the process behind `url`; resolves with the ms it took. */
export async function collectGarbage(url, timeoutMs = 30_000) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const started = performance.now();
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('HeapProfiler.collectGarbage timed out')), timeoutMs);
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString());
        if (message.id !== 1) return;
        clearTimeout(timer);
        if (message.error) reject(new Error(`HeapProfiler.collectGarbage: ${message.error.message}`));
        else resolve();
      });
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    });
    return performance.now() - started;
  } finally {
    ws.terminate();
  }
}
