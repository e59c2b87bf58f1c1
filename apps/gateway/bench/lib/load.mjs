// Thin wrapper around autocannon (run in this process; the gateway is a separate process).
// Besides autocannon's own figures (whose latency histogram has 1 ms resolution), it records
// every response time with sub-millisecond precision, split by HTTP method.
import autocannon from 'autocannon';

/**
 * Runs one autocannon load and summarises it.
 * @param {import('autocannon').Options} options autocannon options (url, connections, duration, ...)
 * @param {Parameters<typeof gatewayCpuMeter>[0]} [server] the target, to charge it CPU time per request (see gatewayCpuMeter)
 */
export async function load(options, server = {}) {
  const cpu = gatewayCpuMeter(server);
  const samples = new Map(); // method -> number[] (ms)
  const statuses = new Map(); // `${method} ${status}` -> count
  const instance = autocannon({ timeout: 5, ...options });
  instance.on('response', (client, statusCode, _bytes, responseTime) => {
    // With pipelining 1 the client's current request is the one that was just answered.
    const method = client.requestIterator.currentRequest?.method ?? options.method ?? 'GET';
    let list = samples.get(method);
    if (!list) samples.set(method, (list = []));
    list.push(responseTime);
    const key = `${method} ${statusCode}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  });
  const result = await instance;
  const all = [...samples.values()].flat();
  const completed = result.requests.total;
  return {
    title: options.title,
    connections: options.connections,
    overallRate: options.overallRate ?? null,
    durationSeconds: result.duration,
    completedRequests: completed,
    requestsPerSecond: completed / result.duration,
    autocannon: {
      requestsAverage: result.requests.average,
      latencyMs: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
        average: result.latency.average,
      },
    },
    latencyMs: summarise(all),
    latencyByMethodMs: Object.fromEntries([...samples].map(([method, list]) => [method, summarise(list)])),
    statuses: Object.fromEntries([...statuses].sort()),
    cpu: cpu(completed, result.duration),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/**
 * Starts counting the CPU time of the gateway (its processes and threads, where `server` can tell)
 * and of this process; the function it answers gives what they used since, per completed request.
 * Gateway CPU per completed request is, unlike throughput, barely moved by other work on the machine.
 * @param {{ cpuSeconds?: () => number | null, cpuSecondsByPlace?: () => Record<string, number> | null }} server
 */
export function gatewayCpuMeter(server) {
  const total = server.cpuSeconds?.() ?? null;
  const places = server.cpuSecondsByPlace?.() ?? null;
  const bench = process.cpuUsage();
  return (completed, seconds) => {
    const totalAfter = server.cpuSeconds?.() ?? null;
    const placesAfter = server.cpuSecondsByPlace?.() ?? null;
    const benchUsed = process.cpuUsage(bench);
    const perRequest = (cpuSeconds) => (completed === 0 ? null : round((cpuSeconds * 1000) / completed));
    const used = total === null || totalAfter === null ? null : totalAfter - total;
    return {
      gatewayMsPerRequest: used === null ? null : perRequest(used),
      gatewayCoreUtilisation: used === null ? null : round(used / seconds),
      // The gateway's event loop, its other threads and its media shards.
      gatewayMsPerRequestByPlace:
        places === null || placesAfter === null ? null : Object.fromEntries(Object.keys(places).map((place) => [place, perRequest(placesAfter[place] - places[place])])),
      benchMsPerRequest: perRequest((benchUsed.user + benchUsed.system) / 1e6),
    };
  };
}

/** p50/p90/p99/max of raw samples (ms), rounded to 0.01 ms. */
export function summarise(values) {
  if (values.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted.at(-1)), mean: round(mean) };
}

const round = (v) => Math.round(v * 100) / 100;

/** Problems that make a load run invalid: any non-2xx answer, socket error or timeout. */
export function problemsOf(name, run) {
  const problems = [];
  if (run.non2xx > 0) problems.push(`${name}: ${run.non2xx} non-2xx responses (${JSON.stringify(run.statuses)})`);
  if (run.errors > 0) problems.push(`${name}: ${run.errors} request errors (${run.timeouts} timeouts)`);
  if (run.completedRequests === 0) problems.push(`${name}: no request completed`);
  return problems;
}
