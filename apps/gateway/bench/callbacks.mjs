// Scenario `callbacks`: recording status callback delivery, on the embedded database (PGlite).
//  1. Throughput: a local receiver holds every request unanswered while pause/resume cycles on
//     RECORDINGS recordings (BACKLOG_CONCURRENCY calls in flight) fill the outbox with
//     BACKLOG_EVENTS events; then the receiver answers everything at once, and the time until the
//     last event has arrived gives deliveries/s. Every event must arrive, per recording in
//     SequenceNumber order; duplicates are allowed (at-least-once) and reported.
//  2. Latency: pause/resume at STEADY_RATE events/s for STEADY_SECONDS, spread over
//     STEADY_RECORDINGS recordings; each event's latency runs from the moment the API call that
//     caused it returned (bench clock) to the moment the receiver got it, matched by
//     (RecordingUUID, SequenceNumber).
// Targets: ≥ 1000 deliveries/s and p99 < 100 ms. All traffic stays on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, callbacksPath, createRecordedMpcs } from './callbacks/api-client.mjs';
import { mapLimit } from './lib/pool.mjs';
import { checkDeliveries, deliveryProblems, summariseDeliveryLog } from './callbacks/checks.mjs';
import { CallbackReceiver } from './lib/callback-receiver.mjs';
import { BENCH_ACCOUNT, GATEWAY_DIR, benchMpcPath as mpcPath, withGateway } from './lib/gateway.mjs';
import { summarise } from './lib/load.mjs';
import { fmt, machine, table } from './lib/report.mjs';
import { machineMeter } from './lib/system-cpu.mjs';

export const description = 'recording status callbacks: outbox drain rate (deliveries/s) and event → delivery latency';

const intFromEnv = (name, fallback) => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

const CALLBACK_CONCURRENCY = 64; // the gateway's default, set explicitly
/** More recordings than CALLBACK_CONCURRENCY, so the dispatcher's cap (not one-per-recording) bounds the drain. */
const RECORDINGS = intFromEnv('BENCH_CB_RECORDINGS', 80);
const BACKLOG_EVENTS = intFromEnv('BENCH_CB_EVENTS', 3000);
const BACKLOG_CONCURRENCY = 8;
/**
 * A held delivery fails after the default read timeout (40 s after it was sent), so set-up and
 * event generation together must end well within it: generation stops early when this runs out.
 */
const HOLD_MAX_MS = 32_000;
const DRAIN_TIMEOUT_MS = 120_000;
const STEADY_RATE = 50; // events/s
const STEADY_SECONDS = 10;
const STEADY_RECORDINGS = 50;
const SETTLE_TIMEOUT_MS = 20_000;
const TARGET_DELIVERIES_PER_SECOND = 1000;
const TARGET_P99_MS = 100;

/**
 * CLOCK_MONOTONIC in µs, the clock V8 stamps CPU profiles with on Linux: the phase windows in the
 * report let bench/lib/cpuprofile-top.mjs look at one phase of a gateway profile.
 */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Starts measuring a phase: gateway CPU (from /proc), bench CPU, the whole machine's CPU, and the
 * gateway's event-loop lag (its recorder's tick lag, from /health/metrics, reset at the start).
 * Call the returned function at the end of the phase.
 */
async function meter(gateway, api) {
  await api.call('GET', '/health/metrics?reset=tick_lag');
  const gatewayBefore = gateway.cpuSeconds();
  const benchBefore = process.cpuUsage();
  const machine = machineMeter();
  const started = performance.now();
  return async () => {
    const seconds = (performance.now() - started) / 1000;
    const gatewayAfter = gateway.cpuSeconds();
    const bench = process.cpuUsage(benchBefore);
    const system = machine.cores();
    const metrics = await api.call('GET', '/health/metrics');
    const gatewayCores = gatewayBefore === null || gatewayAfter === null ? null : (gatewayAfter - gatewayBefore) / seconds;
    const benchCores = (bench.user + bench.system) / 1e6 / seconds;
    return {
      gatewayCores: round2(gatewayCores),
      gatewayCpuSeconds: gatewayBefore === null || gatewayAfter === null ? null : gatewayAfter - gatewayBefore,
      benchCores: round2(benchCores),
      machineBusyCores: system?.busy ?? null,
      otherCores: system && gatewayCores !== null ? round2(Math.max(0, system.busy - gatewayCores - benchCores)) : null,
      iowaitCores: system?.iowait ?? null,
      gatewayEventLoopLagMs: metrics.body?.recorder?.tick_lag_ms ?? null,
    };
  };
}

const round2 = (v) => (v === null || v === undefined ? v : Math.round(v * 100) / 100);

/** @param {{ log: (line: string) => void, command: string }} context */
export async function run({ log, command }) {
  const logLevel = process.env.BENCH_GATEWAY_LOG_LEVEL || 'warn';
  const profileDir = process.env.BENCH_CPU_PROF_DIR || '';
  const startedAt = new Date();
  const host = machine(); // before any load, so its load average shows other work on the machine
  const problems = [];
  const receiver = await new CallbackReceiver().start();
  const expected = new Map(); // recording id -> events it emitted (SequenceNumbers 1..n)
  const expectedTotal = () => [...expected.values()].reduce((sum, n) => sum + n, 0);
  const result = {};
  const phases = {};

  try {
    await withGateway(
      {
        logLevel,
        log,
        nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        env: { RATE_LIMIT_REQUESTS: '0', CALLBACK_ALLOW_PRIVATE: 'loopback', CALLBACK_CONCURRENCY: String(CALLBACK_CONCURRENCY) },
      },
      async (gateway) => {
        const api = new ApiClient(gateway.url, { maxSockets: 32 });
        try {
          const prefix = `bench_cb_${startedAt.getTime()}`;
          const settle = async (label) => {
            const want = expectedTotal();
            const ok = await receiver.waitFor(() => receiver.unique.size >= want, SETTLE_TIMEOUT_MS);
            if (!ok) problems.push(`${label}: only ${receiver.unique.size} of ${want} events arrived within ${SETTLE_TIMEOUT_MS / 1000} s`);
          };

          // ---- 1. backlog, then drain -------------------------------------------------------
          receiver.hold();
          const holdStarted = performance.now();
          log(`throughput: receiver holding; creating ${RECORDINGS} recorded MPCs`);
          const setupStarted = performance.now();
          const backlogMpcs = await createRecordedMpcs(api, { prefix: `${prefix}_t`, count: RECORDINGS, callbackUrl: receiver.url, limit: BACKLOG_CONCURRENCY });
          const setupMs = performance.now() - setupStarted;
          for (const { recordingId } of backlogMpcs) expected.set(recordingId, 1); // MPCRecordingInitiated
          // What the live recordings cost the gateway on their own (the recorder mixes and writes every 20 ms).
          const idleCpuBefore = gateway.cpuSeconds();
          await sleep(1000);
          const idleCpuAfter = gateway.cpuSeconds();
          log(`throughput: generating pause/resume events up to ${BACKLOG_EVENTS} events, ${BACKLOG_CONCURRENCY} calls in flight`);
          const generationMeter = await meter(gateway, api);
          phases.generation = [monotonicUs()];
          const generation = await generateBacklog(api, backlogMpcs, expected, BACKLOG_EVENTS - RECORDINGS, holdStarted + HOLD_MAX_MS);
          phases.generation.push(monotonicUs());
          const generationCpu = await generationMeter();
          problems.push(...generation.problems);
          if (generation.timedOut) log(`throughput: stopped generating ${HOLD_MAX_MS / 1000} s after the receiver began holding`);
          await sleep(200); // let the dispatcher fill its slots
          const backlogEvents = expectedTotal();
          const heldAtRelease = receiver.heldCount;
          const arrivedBeforeRelease = receiver.arrivals.length;
          log(`throughput: ${backlogEvents} events written, ${heldAtRelease} deliveries held; releasing the receiver`);

          const drainMeter = await meter(gateway, api);
          const releasedAt = performance.now();
          phases.drain = [monotonicUs()];
          receiver.release();
          const drained = await receiver.waitFor(() => receiver.unique.size >= backlogEvents, DRAIN_TIMEOUT_MS);
          const drainEnd = drained ? receiver.lastNewAt : performance.now();
          phases.drain.push(monotonicUs());
          const drainCpu = await drainMeter();
          if (!drained) problems.push(`throughput: only ${receiver.unique.size} of ${backlogEvents} events arrived within ${DRAIN_TIMEOUT_MS / 1000} s of the release`);
          const drainMs = drainEnd - releasedAt;
          await sleep(500); // a late duplicate would show up here
          const drainArrivals = receiver.arrivals.slice(arrivedBeforeRelease);
          const throughputCheck = checkDeliveries(receiver.arrivals, expected);
          problems.push(...deliveryProblems('throughput', throughputCheck));
          const throughputLog = summariseDeliveryLog(await deliveryLogs(api, backlogMpcs));
          result.throughput = {
            recordings: RECORDINGS,
            setup: { mpcs: RECORDINGS, seconds: setupMs / 1000 },
            idleGatewayCoreUtilisation: idleCpuBefore === null || idleCpuAfter === null ? null : idleCpuAfter - idleCpuBefore,
            generation: {
              calls: generation.calls,
              events: generation.events,
              seconds: generation.ms / 1000,
              eventsPerSecond: generation.events / (generation.ms / 1000),
              concurrency: BACKLOG_CONCURRENCY,
              timedOut: generation.timedOut,
              callLatencyMs: summarise(generation.latencies),
              cpu: generationCpu,
            },
            backlogEvents,
            heldAtRelease,
            arrivedBeforeRelease,
            drain: {
              drained,
              seconds: drainMs / 1000,
              deliveriesPerSecond: backlogEvents / (drainMs / 1000),
              // The held requests had reached the receiver before the release; only their answers came after it.
              arrivedAfterReleasePerSecond: (backlogEvents - arrivedBeforeRelease) / (drainMs / 1000),
              perSecond: perSecondCounts(drainArrivals, releasedAt),
              gatewayCpuMsPerDelivery: drainCpu.gatewayCpuSeconds === null ? null : (drainCpu.gatewayCpuSeconds * 1000) / backlogEvents,
              cpu: drainCpu,
            },
            check: throughputCheck,
            deliveryLog: withoutLatencies(throughputLog),
          };
          log(`throughput: drained ${backlogEvents} events in ${fmt(drainMs / 1000, 2)} s = ${fmt(result.throughput.drain.deliveriesPerSecond)} deliveries/s`);

          log('throughput: stopping the recordings');
          await stopRecordings(api, backlogMpcs, expected, problems);
          await settle('throughput recordings stopped');

          // ---- 2. steady rate, latency --------------------------------------------------------
          log(`latency: creating ${STEADY_RECORDINGS} recorded MPCs`);
          const steadyMpcs = await createRecordedMpcs(api, { prefix: `${prefix}_l`, count: STEADY_RECORDINGS, callbackUrl: receiver.url, limit: BACKLOG_CONCURRENCY });
          for (const { recordingId } of steadyMpcs) expected.set(recordingId, 1);
          await settle('latency set-up');
          await sleep(500);
          log(`latency: ${STEADY_RATE} events/s for ${STEADY_SECONDS} s over ${STEADY_RECORDINGS} recordings`);
          const steadyMeter = await meter(gateway, api);
          phases.latency = [monotonicUs()];
          const steady = await generateSteady(api, steadyMpcs, expected);
          phases.latency.push(monotonicUs());
          const steadyCpu = await steadyMeter();
          problems.push(...steady.problems);
          await settle('latency');
          await sleep(300);
          const firstArrival = new Map();
          for (const arrival of receiver.arrivals) {
            const key = `${arrival.recordingUuid}:${arrival.sequence}`;
            if (!firstArrival.has(key)) firstArrival.set(key, arrival);
          }
          const fromReturn = [];
          const fromReturnByOp = new Map();
          const fromSend = [];
          let wrongEvent = 0;
          let unmatched = 0;
          let beforeReturn = 0;
          for (const op of steady.ops) {
            if (!op.ok) continue;
            const arrival = firstArrival.get(`${op.recordingId}:${op.sequence}`);
            if (!arrival) {
              unmatched++;
              continue;
            }
            if (arrival.event !== op.event) wrongEvent++;
            fromReturn.push(arrival.at - op.returnedAt);
            fromReturnByOp.set(op, arrival.at - op.returnedAt);
            fromSend.push(arrival.at - op.sentAt);
            if (arrival.at < op.returnedAt) beforeReturn++;
          }
          if (wrongEvent > 0) problems.push(`latency: ${wrongEvent} callbacks carried another EventName than the call that should have caused them`);
          if (unmatched > 0) problems.push(`latency: ${unmatched} events never arrived`);
          // Only the paused/resumed events of the run: the Initiated ones went out during the set-up.
          const steadyLog = summariseDeliveryLog(await deliveryLogs(api, steadyMpcs), (event) => /Paused|Resumed/.test(event.event_name));
          result.latency = {
            rate: STEADY_RATE,
            seconds: STEADY_SECONDS,
            recordings: STEADY_RECORDINGS,
            calls: steady.ops.length,
            events: fromReturn.length,
            achievedRate: steady.ops.length / (steady.ms / 1000),
            lateStarts: steady.lateStarts,
            cpu: steadyCpu,
            perSecond: latencyPerSecond(steady, fromReturnByOp),
            callLatencyMs: summarise(steady.ops.filter((op) => op.ok).map((op) => op.returnedAt - op.sentAt)),
            fromReturnMs: summarise(fromReturn),
            fromSendMs: summarise(fromSend),
            arrivedBeforeReturn: beforeReturn,
            dispatcherAttemptMs: summarise(steadyLog.latencies),
            deliveryLog: withoutLatencies(steadyLog),
          };
          log(`latency: p50 ${fmt(result.latency.fromReturnMs.p50, 2)} ms, p99 ${fmt(result.latency.fromReturnMs.p99, 2)} ms`);

          await stopRecordings(api, steadyMpcs, expected, problems);
          await settle('latency recordings stopped');
          await sleep(300);
          result.finalCheck = checkDeliveries(receiver.arrivals, expected);
          problems.push(...deliveryProblems('all events', result.finalCheck));
          result.receiver = { malformed: receiver.malformed, signatures: receiver.verifySamples(BENCH_ACCOUNT.authToken) };
          if (receiver.malformed > 0) problems.push(`${receiver.malformed} malformed callbacks`);
          if (result.receiver.signatures.invalid > 0) problems.push(`${result.receiver.signatures.invalid} of ${result.receiver.signatures.checked} sampled callbacks had a bad X-Plivo-Signature-V3`);
          result.gatewayOutput = gateway.output();
        } finally {
          api.close();
        }
      },
    );
  } finally {
    await receiver.close();
  }

  const { throughput, latency } = result;
  const targets = {
    deliveriesPerSecond: {
      target: `≥ ${TARGET_DELIVERIES_PER_SECOND} deliveries/s`,
      value: throughput.drain.deliveriesPerSecond,
      met: throughput.drain.drained && throughput.drain.deliveriesPerSecond >= TARGET_DELIVERIES_PER_SECOND,
    },
    latencyP99: { target: `p99 < ${TARGET_P99_MS} ms`, value: latency.fromReturnMs.p99, met: latency.fromReturnMs.p99 !== null && latency.fromReturnMs.p99 < TARGET_P99_MS },
    orderViolations: { target: '0', value: result.finalCheck.orderViolations, met: result.finalCheck.orderViolations === 0 },
  };
  const json = {
    scenario: 'callbacks',
    date: startedAt.toISOString(),
    command,
    machine: { ...host, loadAverageAfter1m: Math.round(loadavg()[0] * 100) / 100 },
    source: sourceRevision(),
    gateway: {
      logLevel,
      database: 'embedded (PGlite, fresh DATA_DIR)',
      env: { RATE_LIMIT_REQUESTS: '0', CALLBACK_ALLOW_PRIVATE: 'loopback', CALLBACK_CONCURRENCY },
      process: 'separate child process',
      cpuProfileDir: profileDir || null,
      /** [start, end] of each phase in CLOCK_MONOTONIC µs, for `node bench/lib/cpuprofile-top.mjs <profile> --window <start> <end>`. */
      phasesMonotonicUs: phases,
      output: result.gatewayOutput,
    },
    settings: {
      recordings: RECORDINGS,
      backlogEvents: BACKLOG_EVENTS,
      backlogConcurrency: BACKLOG_CONCURRENCY,
      steadyRate: STEADY_RATE,
      steadySeconds: STEADY_SECONDS,
      steadyRecordings: STEADY_RECORDINGS,
    },
    summary: {
      deliveriesPerSecond: throughput.drain.deliveriesPerSecond,
      backlogEventsPerSecond: throughput.generation.eventsPerSecond,
      latencyP50Ms: latency.fromReturnMs.p50,
      latencyP99Ms: latency.fromReturnMs.p99,
      duplicates: result.finalCheck.duplicates,
      orderViolations: result.finalCheck.orderViolations,
    },
    targets,
    throughput,
    latency,
    finalCheck: result.finalCheck,
    receiver: result.receiver,
    problems,
  };
  return { json, markdown: markdown(json), problems };
}

/**
 * Pause/resume cycles over `mpcs` until `events` more events exist: `BACKLOG_CONCURRENCY` workers,
 * each owning every n-th MPC, so one MPC never has two calls in flight.
 */
async function generateBacklog(api, mpcs, expected, events, deadline) {
  const problems = [];
  const latencies = [];
  let issued = 0;
  let emitted = 0;
  let timedOut = false;
  const started = performance.now();
  const worker = async (w) => {
    const own = mpcs.filter((_, i) => i % BACKLOG_CONCURRENCY === w).map((mpc) => ({ ...mpc, paused: false }));
    for (let turn = 0; own.length > 0; turn++) {
      if (issued >= events) return;
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      issued++;
      const mpc = own[turn % own.length];
      const action = mpc.paused ? 'Resume' : 'Pause';
      const call = await api.call('POST', `${mpcPath(mpc.name)}/Record/${action}/`, {});
      latencies.push(call.returnedAt - call.sentAt);
      if (call.status !== 204) {
        if (problems.length < 5) problems.push(`throughput: POST Record/${action}/ answered ${call.status}: ${call.text.slice(0, 200)}`);
        continue;
      }
      mpc.paused = !mpc.paused;
      expected.set(mpc.recordingId, expected.get(mpc.recordingId) + 1);
      emitted++;
    }
  };
  await Promise.all(Array.from({ length: BACKLOG_CONCURRENCY }, (_, w) => worker(w)));
  const ms = performance.now() - started;
  return { calls: issued, events: emitted, ms, timedOut, latencies, problems };
}

/**
 * Open-loop pause/resume at STEADY_RATE calls/s for STEADY_SECONDS, call k on recording k mod n.
 * Calls on one recording are chained (they are a second apart, so the chain is normally idle).
 */
async function generateSteady(api, mpcs, expected) {
  const total = STEADY_RATE * STEADY_SECONDS;
  const interval = 1000 / STEADY_RATE;
  const state = mpcs.map((mpc) => ({ ...mpc, paused: false, chain: Promise.resolve() }));
  const ops = [];
  const problems = [];
  let lateStarts = 0;
  const started = performance.now() + 20;
  for (let k = 0; k < total; k++) {
    const due = started + k * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const mpc = state[k % state.length];
    const action = mpc.paused ? 'Resume' : 'Pause';
    mpc.paused = !mpc.paused;
    const sequence = expected.get(mpc.recordingId) + 1;
    expected.set(mpc.recordingId, sequence);
    const op = { recordingId: mpc.recordingId, sequence, event: `MPCRecording${action === 'Pause' ? 'Paused' : 'Resumed'}`, ok: false, sentAt: 0, returnedAt: 0 };
    ops.push(op);
    mpc.chain = mpc.chain.then(async () => {
      if (performance.now() - due > 5) lateStarts++;
      try {
        const call = await api.call('POST', `${mpcPath(mpc.name)}/Record/${action}/`, {});
        op.sentAt = call.sentAt;
        op.returnedAt = call.returnedAt;
        op.ok = call.status === 204;
        if (!op.ok && problems.length < 5) problems.push(`latency: POST Record/${action}/ answered ${call.status}: ${call.text.slice(0, 200)}`);
      } catch (error) {
        if (problems.length < 5) problems.push(`latency: POST Record/${action}/ failed: ${error.message}`);
      }
    });
  }
  await Promise.all(state.map((mpc) => mpc.chain));
  const ms = performance.now() - started;
  // A failed call emitted nothing: the SequenceNumbers after it on that recording are one lower.
  if (ops.some((op) => !op.ok)) problems.push(`latency: ${ops.filter((op) => !op.ok).length} calls failed; their recordings' events cannot be matched`);
  return { ops, ms, lateStarts, problems };
}

async function stopRecordings(api, mpcs, expected, problems) {
  await mapLimit(mpcs, BACKLOG_CONCURRENCY, async ({ name, recordingId }) => {
    const call = await api.call('DELETE', `${mpcPath(name)}/Record/`, {});
    if (call.status === 204) expected.set(recordingId, expected.get(recordingId) + 1); // MPCRecordingCompleted
    else problems.push(`DELETE ${mpcPath(name)}/Record/ answered ${call.status}: ${call.text.slice(0, 200)}`);
  });
}

async function deliveryLogs(api, mpcs) {
  return mapLimit(mpcs, BACKLOG_CONCURRENCY, async ({ recordingId }) => {
    const call = await api.expect('GET', callbacksPath(recordingId), undefined, 200);
    return call.body.objects;
  });
}

/** Per second of the latency run (by when the call was due): calls, latency p50/p99 and the slowest call. */
function latencyPerSecond(steady, fromReturnByOp) {
  const seconds = [];
  steady.ops.forEach((op, k) => {
    const second = Math.floor(k / STEADY_RATE);
    seconds[second] ??= { latencies: [], slowestCallMs: 0 };
    if (fromReturnByOp.has(op)) seconds[second].latencies.push(fromReturnByOp.get(op));
    if (op.ok) seconds[second].slowestCallMs = Math.max(seconds[second].slowestCallMs, round2(op.returnedAt - op.sentAt));
  });
  return seconds.map(({ latencies, slowestCallMs }) => {
    const { p50, p99 } = summarise(latencies);
    return { p50, p99, slowestCallMs };
  });
}

/** How many callbacks arrived in each second after `from` (bench clock). */
function perSecondCounts(arrivals, from) {
  const counts = [];
  for (const { at } of arrivals) {
    const second = Math.max(0, Math.floor((at - from) / 1000));
    while (counts.length <= second) counts.push(0);
    counts[second]++;
  }
  return counts;
}

function withoutLatencies({ latencies, ...rest }) {
  return { ...rest, attemptLatencyMs: summarise(latencies) };
}

/** The commit the gateway was built from, and whether its sources had uncommitted changes. */
function sourceRevision() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: GATEWAY_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const dirty = git('status', '--porcelain', '--', 'src', '../../packages').split('\n').filter(Boolean);
    return { commit: git('rev-parse', '--short', 'HEAD').trim(), uncommittedSourceFiles: dirty.map((line) => line.slice(3)) };
  } catch {
    return null;
  }
}

const status = (met) => (met ? 'met' : 'missed');

function cpuTable({ throughput: t, latency: l }) {
  const row = (label, c) => [
    label,
    fmt(c.gatewayCores, 2),
    fmt(c.benchCores, 2),
    fmt(c.otherCores, 2),
    fmt(c.iowaitCores, 2),
    c.gatewayEventLoopLagMs ? `${fmt(c.gatewayEventLoopLagMs.p50)} / ${fmt(c.gatewayEventLoopLagMs.p99)} / ${fmt(c.gatewayEventLoopLagMs.max)}` : 'n/a',
  ];
  return table(
    ['Phase', 'Gateway', 'Bench', 'Others', 'I/O wait', 'Event-loop lag p50 / p99 / max (ms)'],
    [row('backlog build', t.generation.cpu), row('drain', t.drain.cpu), row('latency run', l.cpu)],
  );
}
const latencyRow = (label, l) => [label, fmt(l.count), fmt(l.p50, 2), fmt(l.p90, 2), fmt(l.p99, 2), fmt(l.max, 2), fmt(l.mean, 2)];

function markdown(report) {
  const { throughput: t, latency: l, targets, machine: m, settings: s, finalCheck: c } = report;
  const summary = table(
    ['Measure', 'Result', 'Target', 'Status'],
    [
      ['Drain: deliveries/s (backlog ÷ time from release to last arrival)', `${fmt(t.drain.deliveriesPerSecond)} /s (${fmt(t.backlogEvents)} events in ${fmt(t.drain.seconds, 2)} s)`, targets.deliveriesPerSecond.target, status(targets.deliveriesPerSecond.met)],
      ['Drain: arrivals after the release ÷ drain time', `${fmt(t.drain.arrivedAfterReleasePerSecond)} /s (${fmt(t.heldAtRelease)} were held at the release)`, '—', '—'],
      ['Backlog build: events/s generated by the API', `${fmt(t.generation.eventsPerSecond)} /s (${fmt(t.generation.events)} pause/resume events in ${fmt(t.generation.seconds, 2)} s, ${t.generation.concurrency} in flight)`, '—', '—'],
      [`Event → delivery latency at ${l.rate} events/s: p50 / p99`, `${fmt(l.fromReturnMs.p50, 2)} / ${fmt(l.fromReturnMs.p99, 2)} ms`, targets.latencyP99.target, status(targets.latencyP99.met)],
      ['Duplicates (all events)', fmt(c.duplicates), 'allowed', '—'],
      ['Out-of-order deliveries (all events)', fmt(c.orderViolations), '0', c.orderViolations === 0 ? 'pass' : 'FAIL'],
      ['Missing / unexpected events (all events)', `${fmt(c.missing)} / ${fmt(c.unexpected)} of ${fmt(c.expected)}`, '0', c.missing + c.unexpected === 0 ? 'pass' : 'FAIL'],
      ['Gateway CPU per delivery during the drain', `${fmt(t.drain.gatewayCpuMsPerDelivery, 3)} ms (${fmt(t.drain.cpu.gatewayCores, 2)} cores busy)`, '—', '—'],
    ],
  );
  const latencyTable = table(
    ['Latency (ms)', 'Count', 'p50', 'p90', 'p99', 'max', 'mean'],
    [
      latencyRow('API call returned → callback arrived', l.fromReturnMs),
      latencyRow('API call sent → callback arrived', l.fromSendMs),
      latencyRow('API call (pause/resume) round trip', l.callLatencyMs),
      latencyRow("Dispatcher's attempt (latency_ms, delivery log; paused/resumed only)", l.dispatcherAttemptMs),
      latencyRow('Backlog build: API call round trip', t.generation.callLatencyMs),
      latencyRow("Backlog drain: dispatcher's attempt (latency_ms; the held ones included)", t.deliveryLog.attemptLatencyMs),
    ],
  );
  const source = report.source ? `${report.source.commit}${report.source.uncommittedSourceFiles.length ? ` + uncommitted changes to ${report.source.uncommittedSourceFiles.join(', ')}` : ''}` : 'unknown';
  return `# Gateway callbacks bench: outbox drain rate and event → delivery latency

- Date: ${report.date}
- Reproduce: \`${report.command}\` (from the repository root, after \`pnpm build\`)
- Machine: ${m.cpu} × ${m.cpuCount}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; 1-min load average before / after the run: ${m.loadAverage1m} / ${m.loadAverageAfter1m}
- Gateway: \`node apps/gateway/dist/main.js\` (source ${source}) in a child process, embedded database (PGlite, fresh DATA_DIR), LOG_LEVEL=${report.gateway.logLevel}, RATE_LIMIT_REQUESTS=0, CALLBACK_ALLOW_PRIVATE=loopback, CALLBACK_CONCURRENCY=${report.gateway.env.CALLBACK_CONCURRENCY}${report.gateway.cpuProfileDir ? `, CPU profile written to ${report.gateway.cpuProfileDir}` : ''}
- Receiver: an HTTP server in the bench process on 127.0.0.1 that answers 200 at once (only the first ${report.receiver.signatures.checked} callbacks' signatures are checked, after the run: ${report.receiver.signatures.valid} valid)
- Throughput run: ${s.recordings} MPCs each with a WAV recording; receiver holding; pause/resume calls (${s.backlogConcurrency} in flight) until ${fmt(t.backlogEvents)} events (${s.recordings} MPCRecordingInitiated + ${fmt(t.generation.events)} paused/resumed) were written${t.generation.timedOut ? ` (generation stopped at the ${HOLD_MAX_MS / 1000} s limit of the hold, short of ${fmt(s.backlogEvents)})` : ''}, ${fmt(t.heldAtRelease)} deliveries held by the receiver; then the receiver answered everything.
- Latency run: ${s.steadyRecordings} other recordings; ${s.steadyRate} pause/resume calls/s for ${s.steadySeconds} s (open loop, call k on recording k mod ${s.steadyRecordings}); achieved ${fmt(l.achievedRate, 1)} calls/s, ${fmt(l.lateStarts)} calls started > 5 ms late.

${summary}

${latencyTable}

Drain arrivals per second after the release: ${t.drain.perSecond.map((n) => fmt(n)).join(', ')}.

Latency run, per second: p99 ${l.perSecond.map((x) => fmt(x.p99, 1)).join(', ')} ms; slowest pause/resume call ${l.perSecond.map((x) => fmt(x.slowestCallMs, 0)).join(', ')} ms.

Delivery log (gateway's own record): throughput run ${fmt(t.deliveryLog.events)} events, statuses ${JSON.stringify(t.deliveryLog.statuses)}, ${fmt(t.deliveryLog.attempts)} attempts, ${fmt(t.deliveryLog.retried)} retried${Object.keys(t.deliveryLog.errors).length ? `, errors ${JSON.stringify(t.deliveryLog.errors)}` : ''}; latency run ${fmt(l.deliveryLog.events)} events, statuses ${JSON.stringify(l.deliveryLog.statuses)}, ${fmt(l.deliveryLog.retried)} retried.

Notes:
- Deliveries/s = the backlog's events ÷ the time from the release of the receiver to the arrival of the last event not seen before. The ${fmt(t.heldAtRelease)} held requests had already reached the receiver; only their answers came after the release (the second row excludes them).
- The throughput run uses more recordings (${s.recordings}) than CALLBACK_CONCURRENCY (${report.gateway.env.CALLBACK_CONCURRENCY}) because the dispatcher sends one event per recording at a time.
- Latency runs from the moment the bench had the whole answer of the pause/resume call to the moment the receiver parsed the callback's headers, both on the bench's clock (performance.now()); EventTimestamp has only second precision. The gateway writes the event and wakes the dispatcher before it answers the call, so a callback can arrive before the answer (${fmt(l.arrivedBeforeReturn)} of ${fmt(l.events)} did): those latencies are negative. The "sent →" row is an upper bound that includes the call itself.
- All events (both runs plus the MPCRecordingCompleted of every recording): ${fmt(c.expected)} expected, ${fmt(c.arrivals)} requests received, ${fmt(c.duplicates)} duplicates.
- The gateway with the ${s.recordings} recordings live and no calls (1 s, receiver holding) used ${fmt(t.idleGatewayCoreUtilisation, 2)} cores. Both processes share ${m.cpuCount} CPUs with anything else running; per phase (cores; "others" = the machine's busy time minus gateway and bench; event-loop lag = the gateway recorder's 20 ms tick lag):

${cpuTable(report)}

${report.problems.length ? `\n**ERRORS** (the bench failed):\n${report.problems.map((p) => `- ${p}`).join('\n')}\n` : ''}`;
}
