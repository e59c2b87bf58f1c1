// Open-loop load at a fixed, evenly spaced rate: request k is due at start + k / rate whatever
// happened to the requests before it, and its latency is counted from that due time, so a server
// that falls behind is charged for the wait too (no coordinated omission). autocannon's
// `overallRate` instead spends each connection's budget for a second back to back at the start of
// that second, which is a burst, not a rate.
//
// Requests come from lanes: each lane is a sequence that must run in order (a recording's start,
// then its stop), and a lane has at most one request in flight. Due requests go to the lanes in
// turn; a request whose lane is still busy waits for it, and that wait is part of its latency.
import http from 'node:http';
import { gatewayCpuMeter, summarise } from './load.mjs';

const TIMER_MS = 1;
const TIMEOUT_MS = 5000;

/**
 * @param {{ url: string, rate: number, seconds: number, lanes: Array<Array<{ method: string, path: string, headers?: Record<string,string>, body?: string }>>, sockets?: number }} options
 *   each lane's requests repeat in order for as long as the run lasts.
 * @param {Parameters<typeof gatewayCpuMeter>[0]} [server] the target, to charge it CPU time per request (see gatewayCpuMeter)
 */
export async function paced({ url, rate, seconds, lanes, sockets = 64 }, server = {}) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const total = Math.round(rate * seconds);
  const samples = new Map(); // method -> latency from the due time (ms)
  const service = []; // latency from the moment the request was sent (ms)
  const statuses = new Map();
  let errors = 0;
  let timeouts = 0;
  let completed = 0;
  let maxLateSendMs = 0;
  const laneState = lanes.map((requests) => ({ requests, next: 0, busy: false, queue: [] }));

  const cpu = gatewayCpuMeter(server);
  const start = performance.now();

  const send = (lane, dueAt) => {
    lane.busy = true;
    const request = lane.requests[lane.next];
    lane.next = (lane.next + 1) % lane.requests.length;
    const sentAt = performance.now();
    const body = request.body ?? '';
    const req = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.path, agent, headers: { ...request.headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => done(lane, request.method, dueAt, sentAt, `${request.method} ${res.statusCode}`));
      },
    );
    req.setTimeout(TIMEOUT_MS, () => {
      timeouts++;
      req.destroy(new Error('timed out'));
    });
    req.on('error', () => {
      errors++;
      done(lane, request.method, dueAt, sentAt, `${request.method} error`);
    });
    req.end(body);
  };

  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const done = (lane, method, dueAt, sentAt, status) => {
    const now = performance.now();
    let list = samples.get(method);
    if (!list) samples.set(method, (list = []));
    list.push(now - dueAt);
    service.push(now - sentAt);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    completed++;
    lane.busy = false;
    const waiting = lane.queue.shift();
    if (waiting !== undefined) send(lane, waiting);
    if (completed === total) finish();
  };

  let issued = 0;
  const pump = () => {
    const now = performance.now();
    while (issued < total && start + (issued * 1000) / rate <= now) {
      const lane = laneState[issued % laneState.length];
      const dueAt = start + (issued * 1000) / rate;
      maxLateSendMs = Math.max(maxLateSendMs, now - dueAt); // the generator's own lag, not a lane's queue
      if (lane.busy) lane.queue.push(dueAt);
      else send(lane, dueAt);
      issued++;
    }
    if (issued < total) setTimeout(pump, TIMER_MS);
  };
  pump();
  await finished;
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();

  const all = [...samples.values()].flat();
  return {
    rate,
    lanes: lanes.length,
    durationSeconds: Math.round(elapsed * 100) / 100,
    completedRequests: completed,
    requestsPerSecond: completed / elapsed,
    latencyMs: summarise(all),
    latencyByMethodMs: Object.fromEntries([...samples].map(([method, list]) => [method, summarise(list)])),
    serviceLatencyMs: summarise(service),
    maxLateSendMs: Math.round(maxLateSendMs * 100) / 100,
    statuses: Object.fromEntries([...statuses].sort()),
    cpu: cpu(completed, elapsed),
    non2xx: [...statuses].filter(([key]) => !/ 2\d\d$/.test(key)).reduce((sum, [, n]) => sum + n, 0),
    errors,
    timeouts,
  };
}
