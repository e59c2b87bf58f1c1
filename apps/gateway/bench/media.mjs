// Scenario `media`: the recorder's media path, every figure measured in this run.
//  1. encoder: one hour of 8 kHz speech-like audio through the gateway's MP3 encoder (LAME in
//     WebAssembly, @mpc/media) vs the native `lame` CLI on the same samples;
//  2. capacity: the most concurrent 4-participant MPC recordings (mp3) the gateway sustains in
//     real time. The participants' streams come from a separate load-generator process
//     (media/streamer.mjs) over 127.0.0.1; MPCs are added in a ramp and each level is held;
//  3. stop → file: RecordingSink.finish() after one hour of audio, at the sink level in this
//     process (mp3 and wav), and end to end through the gateway for short live recordings
//     (DELETE …/Record/ answered → the file answers 200);
//  4. memory: gateway RSS per live MPC (from the capacity levels), and this process's memory
//     while one recording grows to two hours (sink level).
// The scenario keeps to ~6 minutes: the ramp stops at the first level that does not pass, and
// the sink-level runs take what time is left (at least 2 one-hour recordings per format).
// Environment: BENCH_MEDIA_LEVELS=25,50,100 sets the capacity ramp's levels; BENCH_MEDIA_PROFILE=0 skips the gateway CPU profile at the end of the ramp;
// BENCH_MEDIA_CPU_PROF_DIR=<dir> also writes that profile there as a .cpuprofile file.
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFile, mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchEncoder } from '../../../packages/media/bench/encoder.mjs';
import { withGateway } from './lib/gateway.mjs';
import { summarise } from './lib/load.mjs';
import { fmt, machine, table } from './lib/report.mjs';
import { selfTimeByArea, topSelfTime } from './media/cpuprofile.mjs';
import { collectGarbage, cpuProfile, INSPECT_ARG, inspectors } from './media/inspector.mjs';
import { mapLimit } from './lib/pool.mjs';
import { gatewayApi } from './media/mpc.mjs';
import { machineMeter } from './lib/system-cpu.mjs';
import { cpuMeter, loadAverage } from './media/proc.mjs';
import { closeSinkEncoders, fitSlope, memorySeries, removeSinkTempDirsSync, stopRuns } from './media/sink.mjs';
import { killStreamersSync, withStreamer } from './media/streamer-client.mjs';

export const description = 'MP3 encoder vs lame, live recording capacity (streams from a separate load generator), stop → file latency, memory per MPC and over a 2-hour recording';

// ---- settings ----
// Concurrent MPCs, 4 streams each, every MPC recording mp3; BENCH_MEDIA_LEVELS=25,50,... sets others.
const LEVELS = process.env.BENCH_MEDIA_LEVELS ? process.env.BENCH_MEDIA_LEVELS.split(',').map(Number) : [25, 50, 100, 200, 300];
const PARTICIPANTS = 4;
const HOLD_SECONDS = 15; // measured window per level, once every stream and recording is up
const SETTLE_SECONDS = 2; // after set-up, before the window
const EARLY_END_SECONDS = 6; // a window may end here once frames were late (the level failed)
const POLL_SECONDS = 3;
const SETUP_CONCURRENCY = 8; // API requests in flight during set-up
const OPEN_CONCURRENCY = 16; // WebSocket handshakes in flight in the streamer
const TICK_P99_LIMIT_MS = 20;
// The encoder threads keep up with the audio: a thread that cannot falls further behind every second.
const ENCODER_LAG_LIMIT_MS = 1000;
const JITTER_MS = 100; // the gateway's MEDIA_JITTER_MS default: how long the mix waits for a late frame
// The generator kept pace: its frames left within half the jitter window of their due time, so the
// gateway got the whole load in real time, shifted no more than a network's jitter would.
const STREAMER_LAG_P99_LIMIT_MS = JITTER_MS / 2;
const E2E_RECORDINGS = 20;
const E2E_SECONDS = 2;
const E2E_STAGGER_MS = 150;
const STOP_UNDER_LOAD = 10;
const DRAIN_PROBES = 6;
const DRAIN_TIMEOUT_MS = 180_000;
const PROFILE_SECONDS = 5;
const RETRY_OTHERS_CORES = 0.25; // a failed level is measured again when other work used this much CPU meanwhile
const BUDGET_SECONDS = 345; // the whole scenario, roughly; sink-level runs shrink to fit
const SINK_RESERVE_SECONDS = 95; // kept for the sink-level part when the ramp decides whether to go on
const ENCODER_RUNS = 3; // best of: this VM's run-to-run noise is ±20% on its own
const PREDICT_LIMIT_PERCENT = 130; // a level whose extrapolated main-thread CPU is above this is replaced by a smaller step
const TARGETS = { encoderRatio: 1.5, capacityMpcs: 200, stopP99Ms: 500, memorySlopeMiBPerHour: 2 };

const MiB = 2 ** 20;
const CORES = cpus().length;
const round = (v, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/** @param {{ log: (line: string) => void, command: string }} context */
export async function run({ log, command }) {
  const startedAt = new Date();
  const began = performance.now();
  const deadline = began + BUDGET_SECONDS * 1000;
  const secondsLeft = () => (deadline - performance.now()) / 1000;
  const host = machine(); // before any load: its load average shows other work on the machine
  const problems = [];
  const report = {
    scenario: 'media',
    date: startedAt.toISOString(),
    command,
    machine: host,
    loadAverage: { before: loadAverage() },
    settings: {
      levels: LEVELS, participantsPerMpc: PARTICIPANTS, holdSeconds: HOLD_SECONDS, settleSeconds: SETTLE_SECONDS,
      setupConcurrency: SETUP_CONCURRENCY, tickP99LimitMs: TICK_P99_LIMIT_MS, streamerLagP99LimitMs: STREAMER_LAG_P99_LIMIT_MS,
      e2eRecordings: E2E_RECORDINGS, e2eSeconds: E2E_SECONDS, budgetSeconds: BUDGET_SECONDS, encoderRuns: ENCODER_RUNS, predictLimitPercent: PREDICT_LIMIT_PERCENT, retryOthersCores: RETRY_OTHERS_CORES,
      gatewayEnv: { RATE_LIMIT_REQUESTS: '0', LOG_LEVEL: 'warn' }, recordingFormat: 'mp3', streamFraming: 'plain: JSON start, binary 16-bit LE PCM, 8 kHz, 20 ms frames',
    },
    encoder: null,
    capacity: null,
    stop: { endToEnd: null, sink: {} },
    memory: { perLiveMpc: null, twoHourRecording: null },
    phases: {},
    targets: {},
    problems,
  };
  const section = async (name, work) => {
    const t0 = performance.now();
    try {
      return await work();
    } catch (error) {
      problems.push(`${name}: ${error?.message ?? error}`);
      log(`${name} FAILED: ${error?.stack ?? error}`);
      return null;
    } finally {
      report.phases[name] = { seconds: round((performance.now() - t0) / 1000, 1), loadAverageAfter: loadAverage() };
    }
  };
  // Children and temp dirs go even when the bench dies (the runner's own hook kills gateways).
  const onExit = () => {
    killStreamersSync();
    removeSinkTempDirsSync();
  };
  process.on('exit', onExit);

  try {
    // 1. Encoder.
    report.encoder = await section('encoder', async () => {
      log('encoder: one hour of 8 kHz speech-like audio, WASM LAME (the gateway\'s Mp3Encoder) vs the lame CLI');
      // Several times, alternating (wasm, lame, wasm, lame, ...), and the fastest of each: on a shared
      // machine other work only ever slows a run down.
      const runs = [];
      const machineCpu = machineMeter();
      for (let i = 0; i < ENCODER_RUNS; i++) runs.push(await benchEncoder({ seconds: 3600 }));
      const machineDuring = machineCpu.cores();
      const best = (key) => (runs.some((r) => r[key] === null) ? null : Math.min(...runs.map((r) => r[key])));
      const wasmMs = best('wasmMs');
      const lameMs = best('lameMs');
      // The ratio is the median of each run's own ratio (WASM and lame timed back to back, under the
      // same conditions), which is steadier here than the ratio of the two bests.
      const ratios = runs.map((r) => r.ratio).filter((r) => r !== null).sort((a, b) => a - b);
      const result = {
        ...runs[0],
        wasmMs,
        lameMs,
        ratio: ratios.length ? ratios[Math.floor(ratios.length / 2)] : null,
        ratioOfBests: lameMs === null ? null : round(wasmMs / lameMs),
        realtimeFactor: Math.round(3600 / (wasmMs / 1000)),
        runs: runs.map(({ wasmMs: w, lameMs: l, ratio }) => ({ wasmMs: w, lameMs: l, ratio })),
        machine: machineDuring,
      };
      log(`encoder: runs (wasm/lame ms) ${runs.map((r) => `${fmt(r.wasmMs)}/${fmt(r.lameMs)}`).join(', ')}: median ratio ${result.ratio}, best ${fmt(wasmMs)} / ${fmt(lameMs)} ms`);
      return { ...result, loadAverage: loadAverage() };
    });

    // 2 + end-to-end stop: one gateway, one load generator.
    await section('gateway', async () => {
      const profileDir = process.env.BENCH_MEDIA_CPU_PROF_DIR;
      await withGateway({ logLevel: 'warn', env: { RATE_LIMIT_REQUESTS: '0', LOG_LEVEL: 'warn' }, nodeArgs: [INSPECT_ARG], log }, async (gateway) => {
        const api = gatewayApi(gateway.url);
        // The media shards start before the gateway listens, so their inspectors are known by now.
        const inspector = await inspectors(gateway);
        if (inspector.length === 0) throw new Error(`the gateway's inspector URL is not in its output:\n${gateway.outputTail()}`);
        const stamp = startedAt.getTime().toString(36);
        await withStreamer(async (streamer) => {
          log(`load generator: pid ${streamer.pid}; gateway pid ${gateway.child.pid}`);
          report.stop.endToEnd = await section('stop end to end', () => endToEndStops({ api, streamer, stamp, log }));
          report.capacity = await section('capacity', () =>
            capacityRamp({ api, streamer, gateway, inspector, stamp, log, profileDir, capacityDeadline: () => secondsLeft() - SINK_RESERVE_SECONDS }),
          );
        });
        // What the gateway logged at warn, less its banner and the inspector's own lines.
        const logged = gateway.outputTail().split('\n').filter((line) => line && !/Debugger|inspector|For help, see|MPC recording gateway on|media shard started/.test(line));
        report.gatewayOutput = { ...gateway.output(), warnings: logged.slice(-10) };
      });
    });
    if (report.capacity) {
      report.memory.perLiveMpc = report.capacity.memoryPerMpc;
      problems.push(...report.capacity.problems);
    }

    // 3 + 4 at the sink level, in this process.
    report.memory.twoHourRecording = await section('memory two hours', () => {
      log('memory: one mp3 recording of a narrowband call (8 kHz mix, 8 kHz file) fed two hours of audio at the sink level');
      return memorySeries({ format: 'mp3', mixRate: 8000, fileRate: 8000, hours: 2, everyMinutes: 10, log });
    });
    const sinkBudget = Math.max(0, secondsLeft());
    for (const [format, share, concurrency] of [['mp3', 0.55, 2], ['wav', 1, 4]]) {
      report.stop.sink[format] = await section(`stop sink ${format}`, async () => {
        const budgetMs = Math.max(0, (format === 'wav' ? secondsLeft() : sinkBudget * share) * 1000);
        log(`stop → file (sink level): one-hour ${format} recordings of a wideband call (16 kHz mix, 16 kHz file), ${concurrency} at a time, up to 20 or ${fmt(budgetMs / 1000)} s`);
        const result = await stopRuns({ format, mixRate: 16000, fileRate: 16000, hours: 1, maxRuns: 20, minRuns: 2, budgetMs, concurrency, log });
        return { ...result, finishMs: summarise(result.runs.map((r) => r.ms)), loadAverage: loadAverage() };
      });
    }
  } finally {
    process.off('exit', onExit);
    removeSinkTempDirsSync();
    await closeSinkEncoders();
  }

  report.loadAverage.after = loadAverage();
  report.seconds = round((performance.now() - began) / 1000, 1);
  report.targets = judge(report);
  return { json: report, markdown: markdown(report), problems };
}

// ---- end-to-end stop latency on a quiet gateway ----

async function endToEndStops({ api, streamer, stamp, log }) {
  const names = Array.from({ length: E2E_RECORDINGS }, (_, i) => `e2e_${stamp}_${i}`);
  const streams = await mapLimit([0, 1].flatMap((p) => names.map((name) => [name, p])), SETUP_CONCURRENCY, async ([name, p]) => ({
    key: `${name}/${p}`,
    ...(await api.addParticipant(name, p)),
  }));
  const opened = await streamer.open(streams, OPEN_CONCURRENCY);
  if (opened.failed) throw new Error(`${opened.failed} streams did not open: ${opened.errors.join('; ')}`);
  await api.waitForRecorder((r) => r.sources >= streams.length, `${streams.length} live sources`);
  await sleep(300);
  log(`stop end to end: ${E2E_RECORDINGS} recordings of ${E2E_SECONDS} s (mp3 and wav alternately), stopped ${E2E_STAGGER_MS} ms apart; the file polled every 10 ms`);
  const load = loadAverage();
  const runs = await Promise.all(
    names.map(async (name, i) => {
      const format = i % 2 === 0 ? 'mp3' : 'wav';
      await sleep(i * E2E_STAGGER_MS);
      const recording = await api.startRecording(name, format);
      await sleep(E2E_SECONDS * 1000);
      await api.stopRecording(name);
      const file = await api.waitForFile(recording.url, { since: performance.now(), everyMs: 10 });
      return { format, ms: round(file.ms), bytes: file.bytes, polls: file.polls };
    }),
  );
  await streamer.close(streams.map((s) => s.key));
  await api.waitForRecorder((r) => r.sources === 0 && r.recordings === 0, 'no live sources or recordings after the end-to-end runs', 30_000);
  const of = (format) => summarise(runs.filter((r) => r.format === format).map((r) => r.ms));
  return { recordings: runs.length, seconds: E2E_SECONDS, streamsPerMpc: 2, all: summarise(runs.map((r) => r.ms)), mp3: of('mp3'), wav: of('wav'), runs, loadAverage: load };
}

// ---- capacity ramp ----

async function capacityRamp({ api, streamer, gateway, inspector, stamp, log, profileDir, capacityDeadline }) {
  const mpcs = []; // { name, streams, recording }
  const levels = [];
  const pid = gateway.child.pid;

  // Idle: after the end-to-end runs (so the encoder module, pools and JIT are warm), after a full GC.
  const collectAll = () => Promise.all(inspector.map(({ url }) => collectGarbage(url)));
  await collectAll();
  const idleMetrics = await api.metrics();
  const idle = { ...memoryOf(idleMetrics), calls: idleMetrics.recorder.calls };
  log(`capacity: idle gateway RSS ${fmt(idle.rss / MiB)} MiB after a full GC (heap ${fmt(idle.heapUsed / MiB, 1)} MiB, external ${fmt(idle.external / MiB)} MiB)`);

  let setupRate = 60; // API requests/s, refined by each level
  const estimateSeconds = (target) => {
    const fresh = Math.max(0, target - mpcs.length);
    return (fresh * (PARTICIPANTS + 1)) / setupRate + fresh * 0.02 + SETTLE_SECONDS + HOLD_SECONDS + 3;
  };

  const grow = async (target) => {
    const fresh = Array.from({ length: target - mpcs.length }, (_, k) => ({ name: `cap_${stamp}_${mpcs.length + k}`, streams: [], recording: null }));
    const before = await api.metrics({ resetTickLag: true });
    const t0 = performance.now();
    // Every MPC's first participant before any second one, so no MPC is created by two requests at once.
    const joins = Array.from({ length: PARTICIPANTS }, (_, p) => fresh.map((mpc) => [mpc, p])).flat();
    const streams = await mapLimit(joins, SETUP_CONCURRENCY, async ([mpc, p]) => {
      const stream = { key: `${mpc.name}/${p}`, ...(await api.addParticipant(mpc.name, p)) };
      mpc.streams[p] = stream;
      return stream;
    });
    const t1 = performance.now();
    const opened = await streamer.open(streams, OPEN_CONCURRENCY);
    if (opened.failed) throw new Error(`${opened.failed} streams did not open: ${opened.errors.join('; ')}`);
    await api.waitForRecorder((r) => r.sources >= target * PARTICIPANTS, `${target * PARTICIPANTS} live sources`, 120_000);
    const t2 = performance.now();
    await mapLimit(fresh, SETUP_CONCURRENCY, async (mpc) => {
      mpc.recording = await api.startRecording(mpc.name, 'mp3');
    });
    await api.waitForRecorder((r) => r.recordings >= target, `${target} recordings`, 120_000);
    const t3 = performance.now();
    mpcs.push(...fresh);
    const after = await api.metrics();
    const requests = fresh.length * (PARTICIPANTS + 1);
    const apiSeconds = (t1 - t0 + (t3 - t2)) / 1000;
    if (requests > 0 && apiSeconds > 0) setupRate = requests / apiSeconds;
    return {
      newMpcs: fresh.length,
      seconds: round((t3 - t0) / 1000, 1),
      participantsSeconds: round((t1 - t0) / 1000, 1),
      streamsSeconds: round((t2 - t1) / 1000, 1),
      recordingsSeconds: round((t3 - t2) / 1000, 1),
      apiRequests: requests,
      apiRequestsPerSecond: round(requests / apiSeconds, 1),
      lateFramesDuringSetup: after.recorder.late_frames - before.recorder.late_frames,
      tickLagDuringSetupMs: { p99: round(after.recorder.tick_lag_ms.p99), max: round(after.recorder.tick_lag_ms.max) },
    };
  };

  // Until a 2 s window shows the event loop keeping time again (an overloaded gateway has a backlog of
  // queued frames to work off), at most 30 s.
  const recover = async () => {
    const t0 = performance.now();
    for (;;) {
      await api.metrics({ resetTickLag: true });
      await sleep(2000);
      const { recorder } = await api.metrics();
      if (recorder.tick_lag_ms.p99 < 2 * TICK_P99_LIMIT_MS || performance.now() - t0 > 30_000) return round((performance.now() - t0) / 1000, 1);
    }
  };

  // Back down to `target` MPCs: silence the others' streams first (relief for an overloaded gateway),
  // stop their recordings, hang the streams up, and wait for the gateway to recover.
  const shrink = async (target) => {
    const gone = mpcs.splice(target);
    const keys = gone.flatMap((mpc) => mpc.streams.map((s) => s.key));
    const t0 = performance.now();
    await streamer.pause(keys);
    await mapLimit(gone.filter((mpc) => !mpc.recording.stopped), SETUP_CONCURRENCY, (mpc) => api.stopRecording(mpc.name));
    await streamer.close(keys);
    await api.waitForRecorder((r) => r.sources <= target * PARTICIPANTS && r.recordings <= target, `${target} MPCs after shrinking`, 60_000);
    const recoverySeconds = await recover();
    return { removedMpcs: gone.length, seconds: round((performance.now() - t0) / 1000, 1), recoverySeconds };
  };

  // A level's window, and a second one when other work on the shared machine was busy during the first
  // (it only ever hurts); the second verdict counts.
  const measureLevel = async (level, setup, refinement = false) => {
    const first = await measure(level, setup, refinement);
    if (first.verdict === 'pass' || !(first.machine?.othersCores >= RETRY_OTHERS_CORES) || SETTLE_SECONDS + HOLD_SECONDS + 5 > capacityDeadline()) return [first];
    log(`capacity: ${level} MPCs ${first.verdict} while other work kept ${fmt(first.machine.othersCores, 2)} cores busy; measuring the level again`);
    const second = await measure(level, { retry: true }, refinement);
    return [{ ...first, superseded: true }, { ...second, retry: true }];
  };

  const measure = async (level, setup, refinement = false) => {
    await sleep(SETTLE_SECONDS * 1000);
    const m0 = await api.metrics({ resetTickLag: true });
    const s0 = await streamer.stats(true);
    const cpu = processesMeter(pidsOf(m0));
    const mainCpu = mainThreadsMeter(m0);
    const machineCpu = machineMeter();
    const benchCpu0 = process.cpuUsage();
    const load0 = loadAverage();
    const t0 = performance.now();
    let endedEarly = false;
    for (;;) {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= HOLD_SECONDS) break;
      await sleep(Math.min(POLL_SECONDS, HOLD_SECONDS - elapsed) * 1000);
      const now = (performance.now() - t0) / 1000;
      if (now >= EARLY_END_SECONDS && now < HOLD_SECONDS) {
        const m = await api.metrics();
        if (m.recorder.late_frames > m0.recorder.late_frames) {
          endedEarly = true;
          break;
        }
      }
    }
    const m1 = await api.metrics();
    const gatewayCpuPercent = cpu.percent();
    const { mixing: mainThreadCpu, gateway: gatewayThreadCpu } = mainCpu.split();
    const mainThreadCpuPercent = mainThreadCpu?.total ?? null;
    const machine = machineCpu.cores();
    const benchCpu = process.cpuUsage(benchCpu0);
    const holdSeconds = (performance.now() - t0) / 1000;
    const st = await streamer.stats();
    // Everything else on the machine in the window: busy cores less the gateway, the generator and this process.
    const othersCores = machine === null || gatewayCpuPercent === null
      ? null
      : Math.max(0, round(machine.busy - gatewayCpuPercent / 100 - st.cpuPercent / 100 - (benchCpu.user + benchCpu.system) / 1e6 / holdSeconds));
    const loadDuring = loadAverage();
    // Memory without the garbage: a full GC, after the window.
    await collectAll();
    const m2 = await api.metrics();

    const streams = level * PARTICIPANTS;
    const lateFrames = m1.recorder.late_frames - m0.recorder.late_frames;
    const lag = m1.recorder.tick_lag_ms;
    const expectedFps = streams * 50;
    const generator = {
      sendLagMs: st.lagMs,
      framesPerSecond: st.framesPerSecond,
      expectedFramesPerSecond: expectedFps,
      cpuPercent: st.cpuPercent,
      maxBufferedBytes: st.maxBufferedBytes,
      unexpectedCloses: st.unexpectedCloses - s0.unexpectedCloses,
      rss: st.rss,
    };
    const reasons = [];
    if (lateFrames > 0) reasons.push(`${fmt(lateFrames)} late frames`);
    if (!(lag.p99 < TICK_P99_LIMIT_MS)) reasons.push(`tick lag p99 ${fmt(lag.p99, 1)} ms ≥ ${TICK_P99_LIMIT_MS} ms`);
    if (m1.recorder.sources < streams) reasons.push(`${m1.recorder.sources} of ${streams} sources live`);
    if (m1.recorder.recordings < level) reasons.push(`${m1.recorder.recordings} of ${level} recordings live`);
    if (!(m1.recorder.encoder_lag_ms <= ENCODER_LAG_LIMIT_MS)) reasons.push(`encoder lag ${fmt(m1.recorder.encoder_lag_ms)} ms > ${ENCODER_LAG_LIMIT_MS} ms`);
    const generatorReasons = [];
    if (!(st.lagMs.p99 <= STREAMER_LAG_P99_LIMIT_MS)) generatorReasons.push(`generator send lag p99 ${fmt(st.lagMs.p99, 1)} ms > ${STREAMER_LAG_P99_LIMIT_MS} ms`);
    if (st.framesPerSecond < 0.98 * expectedFps) generatorReasons.push(`generator sent ${fmt(st.framesPerSecond)} of ${fmt(expectedFps)} frames/s`);
    if (generator.unexpectedCloses > 0) generatorReasons.push(`${generator.unexpectedCloses} streams closed by the gateway`);
    // Tick lag is the gateway's own event loop: a miss there is the gateway's (or the machine's), whatever
    // the generator did. Late frames are the gateway's only if no frame was sent later than the
    // gateway's 100 ms jitter window; otherwise the generator may have caused them.
    const tickMiss = !(lag.p99 < TICK_P99_LIMIT_MS);
    const lateOwn = lateFrames > 0 && st.lagMs.max < JITTER_MS;
    const verdict = reasons.length === 0 && generatorReasons.length === 0 ? 'pass' : tickMiss || lateOwn || generatorReasons.length === 0 ? 'fail' : 'generator-bound';
    const result = {
      mpcs: level,
      streams,
      refinement,
      verdict,
      reasons: [...reasons, ...generatorReasons],
      holdSeconds: round(holdSeconds, 1),
      endedEarly,
      encoderLagMs: m1.recorder.encoder_lag_ms,
      tickLagMs: { p50: round(lag.p50), p99: round(lag.p99), max: round(lag.max), samples: lag.samples, expected: Math.round((holdSeconds * 1000) / m1.recorder.tick_ms), tickMs: m1.recorder.tick_ms },
      lateFrames,
      gateway: {
        cpuPercent: gatewayCpuPercent,
        mainThreadCpuPercent,
        mainThreadCpu,
        gatewayThreadCpu,
        shards: m1.recorder.shards?.length ?? 0,
        rss: memoryOf(m1).rss,
        afterGc: memoryOf(m2),
        calls: m1.recorder.calls,
        sources: m1.recorder.sources,
        recordings: m1.recorder.recordings,
      },
      generator,
      machine: machine && { ...machine, othersCores, cores: CORES },
      setup,
      loadAverage: { before: load0, during: loadDuring },
    };
    log(
      `capacity ${level} MPCs (${streams} streams): ${verdict}${result.reasons.length ? ` (${result.reasons.join('; ')})` : ''}; ` +
        `tick lag p50/p99/max ${fmt(lag.p50, 1)}/${fmt(lag.p99, 1)}/${fmt(lag.max, 1)} ms, late ${lateFrames}, encoder lag ${fmt(m1.recorder.encoder_lag_ms)} ms, gateway CPU ${fmt(gatewayCpuPercent)}% (busiest mixing thread ${fmt(mainThreadCpuPercent)}%, API thread ${fmt(gatewayThreadCpu?.total)}%), ` +
        `RSS ${fmt(memoryOf(m1).rss / MiB)} MiB (${fmt(memoryOf(m2).rss / MiB)} after GC), generator lag p99 ${fmt(st.lagMs.p99, 1)} ms at ${fmt(st.cpuPercent)}% CPU; ` +
        `machine ${fmt(machine?.busy, 2)} of ${CORES} cores busy (others ${fmt(othersCores, 2)}, steal ${fmt(machine?.steal, 2)}); load ${load0[0]}→${loadDuring[0]}`,
    );
    return result;
  };

  let lastPass = 0;
  let lastPassMainCpu = null;
  let stoppedAt = null;
  let stopReason = 'every level passed';
  const candidates = [...LEVELS];
  while (candidates.length > 0) {
    let level = candidates.shift();
    if (level <= mpcs.length) continue;
    // The main thread runs all of it: when the last pass extrapolates to well over a core at this
    // level, try a smaller step first instead of drowning the gateway (set-up alone would take minutes).
    if (lastPass > 0 && lastPassMainCpu !== null) {
      const perMpc = lastPassMainCpu / lastPass;
      let target = level;
      while (target - lastPass > 25 && perMpc * target > PREDICT_LIMIT_PERCENT) target = Math.max(lastPass + 25, Math.round((lastPass + target) / 2 / 25) * 25);
      if (target !== level) {
        log(`capacity: ${level} MPCs would need ~${fmt(perMpc * level)}% of the main thread (${fmt(lastPassMainCpu)}% at ${lastPass}); trying ${target} first`);
        candidates.unshift(level);
        level = target;
      }
    }
    const needed = estimateSeconds(level);
    if (needed > capacityDeadline()) {
      stopReason = `time budget: level ${level} needs ~${Math.round(needed)} s, ${Math.round(Math.max(0, capacityDeadline()))} s left`;
      log(`capacity: stopping before ${level} MPCs (${stopReason})`);
      break;
    }
    log(`capacity: setting up ${level} MPCs (${level - mpcs.length} new: ${(level - mpcs.length) * PARTICIPANTS} participants, streams and ${level - mpcs.length} recordings; ${SETUP_CONCURRENCY} requests in flight)`);
    const setup = await grow(level);
    log(`capacity: set-up took ${setup.seconds} s (${setup.apiRequestsPerSecond} API requests/s; ${fmt(setup.lateFramesDuringSetup)} late frames meanwhile, tick lag p99 ${fmt(setup.tickLagDuringSetupMs.p99)} ms, max ${fmt(setup.tickLagDuringSetupMs.max)} ms)`);
    const windows = await measureLevel(level, setup);
    levels.push(...windows);
    const result = windows.at(-1);
    if (result.verdict === 'pass') {
      lastPass = level;
      lastPassMainCpu = result.gateway.mainThreadCpuPercent;
      continue;
    }
    stoppedAt = level;
    stopReason = `${level} MPCs ${result.verdict === 'fail' ? 'failed' : 'were generator-bound (the load generator could not keep pace)'}: ${result.reasons.join('; ')}`;
    break;
  }

  // One step back between the last pass and the failure, when there is room and time.
  if (stoppedAt !== null && stoppedAt - lastPass >= 50 && estimateSeconds(0) + 10 < capacityDeadline()) {
    const middle = Math.round((lastPass + stoppedAt) / 2 / 25) * 25;
    log(`capacity: trying ${middle} MPCs, between the last pass (${lastPass}) and ${stoppedAt}`);
    const setup = await shrink(middle);
    const windows = await measureLevel(middle, setup, true);
    levels.push(...windows);
    if (windows.at(-1).verdict === 'pass' && middle > lastPass) {
      lastPass = middle;
      lastPassMainCpu = windows.at(-1).gateway.mainThreadCpuPercent;
    }
  }

  // Afterwards, never losing the levels above: back to the highest level that passed, stop → file
  // there while the rest keeps recording, the CPU profile, then stop everything and check files.
  const afterRamp = async (out) => {
    if (levels.at(-1)?.verdict !== 'pass' && lastPass > 0 && mpcs.length > lastPass) {
      log(`capacity: back to ${lastPass} MPCs, the last level that passed`);
      out.backTo = { mpcs: lastPass, ...(await shrink(lastPass)) };
    }
    // The last levels may leave work behind (encoding, file writes, at nice 10 and in libuv's thread
    // pool, which a saturated machine serves last), and a stop's file waits for it: first measure
    // that, with a few recordings stopped at once (they land on every media shard) and their files
    // awaited, so the stops below measure a stop, not what the ramp left.
    {
      const probes = mpcs.slice(0, DRAIN_PROBES);
      const since = performance.now();
      await mapLimit(probes, DRAIN_PROBES, (mpc) => api.stopRecording(mpc.name));
      const files = await mapLimit(probes, DRAIN_PROBES, (mpc) => api.waitForFile(mpc.recording.url, { since, everyMs: 100, timeoutMs: DRAIN_TIMEOUT_MS }));
      for (const mpc of probes) mpc.recording.stopped = true;
      out.drain = { recordings: probes.length, seconds: round(Math.max(...files.map((file) => file.ms)) / 1000, 1) };
      log(`capacity: the encoders caught up in ${out.drain.seconds} s (${probes.length} recordings stopped at once, their files awaited)`);
    }
    const stopUnderLoad = [];
    const underLoadMpcs = mpcs.length;
    for (const mpc of mpcs.filter((candidate) => !candidate.recording.stopped).slice(0, STOP_UNDER_LOAD)) {
      await api.stopRecording(mpc.name);
      const file = await api.waitForFile(mpc.recording.url, { since: performance.now(), everyMs: 10, timeoutMs: 30_000 });
      stopUnderLoad.push(round(file.ms));
      mpc.recording.stopped = true;
    }
    out.stopUnderLoad = { mpcs: underLoadMpcs, passed: underLoadMpcs <= lastPass, ms: summarise(stopUnderLoad), runs: stopUnderLoad };
    // Where the time goes, last: profiling through the inspector disturbs the gateway for seconds
    // (ticks seconds late while the profile is taken and serialised), so no measurement follows it.
    if (process.env.BENCH_MEDIA_PROFILE !== '0' && mpcs.length > 0) {
      const at = { mpcs: mpcs.length, recording: mpcs.filter((mpc) => !mpc.recording.stopped).length };
      // One process that mixes: the busiest media shard, or the gateway itself without shards.
      const metrics = await api.metrics();
      const shards = metrics.recorder.shards ?? [];
      const busiest = shards.length ? shards.reduce((a, b) => (b.sources > a.sources ? b : a)).pid : pid;
      const target = inspector.find((entry) => entry.pid === busiest) ?? inspector[0];
      const cpu = processesMeter(pidsOf(metrics));
      const mainCpu = cpuMeter(target.pid, { mainThread: true });
      const raw = await cpuProfile(target.url, PROFILE_SECONDS * 1000, 1000);
      const main = mainCpu.split();
      const profile = { mpcs: at.mpcs, recording: at.recording, seconds: PROFILE_SECONDS, pid: target.pid, shard: target.pid !== pid, mpcsOnProcess: shards.find((s) => s.pid === target.pid)?.calls ?? at.mpcs, gatewayCpuPercent: cpu.percent(), mainThreadCpuPercent: main?.total ?? null, mainThreadCpu: main, top: topSelfTime(raw, 15), byArea: selfTimeByArea(raw) };
      if (profileDir) {
        await mkdir(profileDir, { recursive: true });
        profile.file = join(profileDir, `gateway-media-${at.mpcs}mpcs.cpuprofile`);
        await writeFile(profile.file, JSON.stringify(raw));
      }
      out.profile = profile;
      log(`capacity: gateway CPU profile at ${at.mpcs} MPCs: ${profile.top.slice(0, 5).map((f) => `${f.function} ${f.selfPercent}%`).join(', ')}`);
    }

    await mapLimit(mpcs.filter((mpc) => !mpc.recording.stopped), SETUP_CONCURRENCY, (mpc) => api.stopRecording(mpc.name));
    const checked = [];
    for (const mpc of [mpcs[0], mpcs[Math.floor(mpcs.length / 2)], mpcs.at(-1)].filter(Boolean)) {
      const file = await api.waitForFile(mpc.recording.url, { everyMs: 50, timeoutMs: 30_000 });
      const recording = await api.recording(mpc.recording.recordingId);
      const durationMs = Number(recording.recording_duration_ms);
      const expectedBytes = durationMs * 4; // 32 kbit/s
      const ok = recording.recording_status === 'completed' && durationMs > 1000 && Math.abs(file.bytes - expectedBytes) < 0.1 * expectedBytes + 2048;
      checked.push({ name: mpc.name, status: recording.recording_status, durationMs, bytes: file.bytes, ok });
    }
    out.verification = checked;
    const bad = checked.filter((c) => !c.ok);
    if (bad.length) throw new Error(`recordings from the capacity run look wrong: ${JSON.stringify(bad)}`);
  };
  const after = { backTo: null, stopUnderLoad: null, profile: null, verification: [], error: null };
  try {
    await afterRamp(after);
  } catch (error) {
    after.error = error?.message ?? String(error);
    log(`capacity: after the ramp: ${after.error}`);
  }
  const afterProblems = after.error ? [`capacity (after the ramp): ${after.error}`] : [];
  const notAttempted = LEVELS.filter((level) => !levels.some((l) => l.mpcs >= level)).map((level) => ({
    mpcs: level,
    predictedMainThreadCpuPercent: lastPass > 0 && lastPassMainCpu !== null ? Math.round((lastPassMainCpu / lastPass) * level) : null,
  }));

  // Memory per live MPC, from the levels that passed on the way up: an overloaded gateway holds
  // queued frames, and one that was backed down may keep memory it freed.
  const passed = levels.filter((l) => !l.refinement && !l.superseded && l.verdict === 'pass');
  const grown = passed.length > 0 ? passed : levels.filter((l) => !l.refinement && !l.superseded);
  const perLevel = grown.map((l) => ({
    mpcs: l.mpcs,
    rssAfterGc: l.gateway.afterGc.rss,
    perMpcBytes: Math.round((l.gateway.afterGc.rss - idle.rss) / l.mpcs),
    perMpcBytesNoGc: Math.round((l.gateway.rss - idle.rss) / l.mpcs),
    externalPerMpcBytes: Math.round((l.gateway.afterGc.external - idle.external) / l.mpcs),
  }));
  const slope = fitSlope([[0, idle.rss], ...grown.map((l) => [l.mpcs, l.gateway.afterGc.rss])]);
  const memoryPerMpc = {
    idle,
    perLevel,
    fittedBytesPerMpc: slope === null ? null : Math.round(slope),
    fromLevels: passed.length > 0 ? 'passed levels' : 'every level grown to (none passed)',
    note: 'RSS after a full GC in the gateway (through its inspector) at the end of each level, minus the idle RSS after a full GC, per MPC; fitted = least-squares slope of RSS over MPCs including the idle point',
  };

  return {
    levels,
    sustainedMpcs: lastPass,
    sustainedStreams: lastPass * PARTICIPANTS,
    stopReason,
    notAttempted,
    backTo: after.backTo,
    drain: after.drain ?? null,
    profile: after.profile,
    stopUnderLoad: after.stopUnderLoad,
    verification: after.verification,
    afterRampError: after.error,
    problems: afterProblems,
    memoryPerMpc,
  };
}

/** The gateway's memory: its own process and its media shards' together (heap figures are the gateway process's). */
function memoryOf(metrics) {
  const { rss, heap_used: heapUsed, external, array_buffers: arrayBuffers } = metrics.memory;
  const shardsRss = (metrics.recorder.shards ?? []).reduce((sum, shard) => sum + shard.rss, 0);
  return { rss: rss + shardsRss, heapUsed, external, arrayBuffers };
}

/** The gateway's processes: its own and its media shards'. */
function pidsOf(metrics) {
  return [metrics.pid, ...(metrics.recorder.shards ?? []).map((shard) => shard.pid)];
}

/** CPU of several processes over a window, summed, in percent of one core. */
function processesMeter(pids) {
  const meters = pids.map((p) => cpuMeter(p));
  return {
    percent() {
      const each = meters.map((meter) => meter.percent());
      return each.includes(null) ? null : round(each.reduce((a, b) => a + b, 0), 1);
    },
  };
}

/**
 * The event loops over a window: `mixing` is the busiest of those that mix (each media shard's, or
 * the gateway's when it has none), `gateway` the gateway's own (API, database, callbacks).
 */
function mainThreadsMeter(metrics) {
  const gateway = cpuMeter(metrics.pid, { mainThread: true });
  const shards = (metrics.recorder.shards ?? []).map((shard) => cpuMeter(shard.pid, { mainThread: true }));
  return {
    split() {
      const own = gateway.split();
      const mixing = shards.map((meter) => meter.split()).reduce((a, b) => (b !== null && (a === null || b.total > a.total) ? b : a), null);
      return { gateway: own, mixing: shards.length ? mixing : own };
    },
  };
}

// ---- targets ----

function judge(report) {
  const { encoder, capacity, stop, memory } = report;
  const targets = {};
  targets.encoderRatio = {
    target: `≤ ${TARGETS.encoderRatio}× lame's time`,
    value: encoder?.ratio ?? null,
    met: encoder?.ratio === null || encoder?.ratio === undefined ? null : encoder.ratio <= TARGETS.encoderRatio,
  };
  targets.capacity = {
    target: `≥ ${TARGETS.capacityMpcs} MPCs (${TARGETS.capacityMpcs * PARTICIPANTS} streams)`,
    value: capacity?.sustainedMpcs ?? null,
    met: capacity ? capacity.sustainedMpcs >= TARGETS.capacityMpcs : null,
  };
  for (const format of ['mp3', 'wav']) {
    const s = stop.sink[format];
    targets[`stopSink_${format}`] = {
      target: `p99 < ${TARGETS.stopP99Ms} ms`,
      value: s?.finishMs?.p99 ?? null,
      runs: s?.runs?.length ?? 0,
      met: s ? s.finishMs.p99 < TARGETS.stopP99Ms : null,
    };
  }
  targets.stopEndToEnd = {
    target: `p99 < ${TARGETS.stopP99Ms} ms`,
    value: stop.endToEnd?.all?.p99 ?? null,
    met: stop.endToEnd ? stop.endToEnd.all.p99 < TARGETS.stopP99Ms : null,
  };
  const slope = memory.twoHourRecording?.secondHourSlopeMiBPerHour;
  targets.memoryFlat = {
    target: `RSS and heap slope within ±${TARGETS.memorySlopeMiBPerHour} MiB per recorded hour over the second hour`,
    value: slope?.rss ?? null,
    heapSlope: slope?.heapUsed ?? null,
    met: slope ? Math.abs(slope.rss) <= TARGETS.memorySlopeMiBPerHour && Math.abs(slope.heapUsed) <= TARGETS.memorySlopeMiBPerHour : null,
  };
  return targets;
}

// ---- Markdown ----

const status = (met) => (met === null || met === undefined ? 'n/a' : met ? 'met' : 'missed');
const mib = (bytes, digits = 0) => (bytes === null || bytes === undefined ? 'n/a' : `${fmt(bytes / MiB, digits)} MiB`);
const la = (l) => (l ? l.map((v) => fmt(v, 2)).join(' / ') : 'n/a');

function markdown(report) {
  const { machine: m, encoder, capacity, stop, memory, targets: t } = report;
  const e2e = stop.endToEnd;
  const sink = stop.sink;
  const two = memory.twoHourRecording;
  const per = memory.perLiveMpc;
  const lines = [];
  lines.push(`# Gateway media bench: encoder, live capacity, stop → file, memory

- Date: ${report.date}; the scenario took ${fmt(report.seconds)} s
- Reproduce: \`${report.command}\` (from the repository root, after \`pnpm build\`)
- Machine: ${m.cpu} × ${m.cpuCount}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}
- Load average (1/5/15 min): ${la(report.loadAverage.before)} before the run, ${la(report.loadAverage.after)} after. The machine is shared: other work on it skews every figure below, and each section shows the 1-minute load average next to its figures.
- Gateway: \`node apps/gateway/dist/main.js\` in a child process (fresh PGlite DATA_DIR, RATE_LIMIT_REQUESTS=0, LOG_LEVEL=warn, \`--inspect=127.0.0.1:0\` only for full GCs between windows and the CPU profile); participants' streams from a separate load-generator process (\`bench/media/streamer.mjs\`) over 127.0.0.1; everything else in the bench process.
`);
  lines.push(
    table(
      ['Measure', 'Result', 'Target', 'Status'],
      [
        ['MP3 encoder: one hour of 8 kHz speech, WASM vs `lame` (median of runs; best times)', encoder ? `${fmt(encoder.ratio, 2)}× (${fmt(encoder.wasmMs)} ms vs ${fmt(encoder.lameMs)} ms)` : 'n/a', t.encoderRatio.target, status(t.encoderRatio.met)],
        ['Capacity: concurrent 4-party MPC recordings (mp3) in real time', capacity ? `${fmt(capacity.sustainedMpcs)} MPCs (${fmt(capacity.sustainedStreams)} streams)` : 'n/a', t.capacity.target, status(t.capacity.met)],
        ['Stop → file, one-hour 16 kHz mp3 (sink `finish()`), p50 / p99', sink.mp3 ? `${fmt(sink.mp3.finishMs.p50, 1)} / ${fmt(sink.mp3.finishMs.p99, 1)} ms (${sink.mp3.runs.length} runs)` : 'n/a', t.stopSink_mp3.target, status(t.stopSink_mp3.met)],
        ['Stop → file, one-hour 16 kHz wav (sink `finish()`), p50 / p99', sink.wav ? `${fmt(sink.wav.finishMs.p50, 1)} / ${fmt(sink.wav.finishMs.p99, 1)} ms (${sink.wav.runs.length} runs)` : 'n/a', t.stopSink_wav.target, status(t.stopSink_wav.met)],
        ['Stop → file end to end (DELETE answered → GET 200), 2 s recordings, p50 / p99', e2e ? `${fmt(e2e.all.p50, 1)} / ${fmt(e2e.all.p99, 1)} ms (${e2e.recordings} recordings)` : 'n/a', t.stopEndToEnd.target, status(t.stopEndToEnd.met)],
        ['Memory per live MPC (gateway RSS, after GC)', per?.fittedBytesPerMpc != null ? `${mib(per.fittedBytesPerMpc, 2)} fitted (${per.perLevel.map((l) => `${mib(l.perMpcBytes, 2)} at ${l.mpcs}`).join(', ')})` : 'n/a', '—', '—'],
        ['Memory over a two-hour recording: RSS / heap slope, second hour (whole, from 10 min)', two ? `${fmt(two.secondHourSlopeMiBPerHour.rss, 2)} / ${fmt(two.secondHourSlopeMiBPerHour.heapUsed, 2)} MiB per hour (${fmt(two.slopeMiBPerHour.rss, 2)} / ${fmt(two.slopeMiBPerHour.heapUsed, 2)})` : 'n/a', t.memoryFlat.target, status(t.memoryFlat.met)],
      ],
    ),
  );

  if (encoder) {
    lines.push(`
## 1. Encoder

One hour of deterministic speech-like 8 kHz mono audio (\`packages/media/bench/encoder.mjs\`, \`benchEncoder({ seconds: 3600 })\`): the package's \`Mp3Encoder\` (what the gateway's \`createEncoder('mp3', 8000)\` wraps: 32 kbit/s CBR) fed 20 ms frames in memory, against \`${encoder.lame}\` (\`-r -s 8 -m m -b 32 --cbr\`) reading the same samples from a raw file, process start included.

- WASM: ${fmt(encoder.wasmMs)} ms at best (${fmt(encoder.realtimeFactor)}× real time, ${mib(encoder.wasmBytes, 1)}); encoder creation ${fmt(encoder.createMs, 1)} ms
- lame: ${fmt(encoder.lameMs)} ms at best (${mib(encoder.lameBytes, 1)}); ratio of the bests ${fmt(encoder.ratioOfBests, 2)}×
- ${encoder.runs.length} runs, each WASM then lame: ${encoder.runs.map((r) => `${fmt(r.wasmMs)} / ${fmt(r.lameMs)} ms (${fmt(r.ratio, 2)}×)`).join(', ')}${encoder.machine ? `; the machine had ${fmt(encoder.machine.busy, 2)} of ${m.cpuCount} cores busy meanwhile (steal ${fmt(encoder.machine.steal, 2)}), this bench's one included` : ''}
- Ratio (median of the runs' own ratios) ${fmt(encoder.ratio, 2)}× (target ≤ ${TARGETS.encoderRatio}×): **${status(t.encoderRatio.met)}**. On this VM either encoder's time moves by up to ±20% from run to run, so a single run can land on either side of the target; load average after: ${la(encoder.loadAverage)}
- One core encodes ~${fmt(encoder.realtimeFactor)} live 8 kHz mp3 recordings at this speed, so encoding alone costs ~${fmt(100 / encoder.realtimeFactor, 2)}% of a core per recording.`);
  }

  if (capacity) {
    lines.push(`
## 2. Capacity

Ramp of ${report.settings.levels.join(', ')} MPCs (stopping at the first level that does not pass; a level whose main-thread CPU, extrapolated from the last pass, would exceed ${PREDICT_LIMIT_PERCENT}% of a core is preceded by a smaller step, and after a failure one level halfway back is tried), each with ${PARTICIPANTS} participants (added with \`stay_alone\`) streaming speech-like 8 kHz PCM in real time from the load generator, and every MPC recording mp3. MPCs accumulate from level to level. Set-up (${SETUP_CONCURRENCY} API requests in flight, ${OPEN_CONCURRENCY} WebSocket handshakes) is outside the window; then ${SETTLE_SECONDS} s to settle, the tick-lag sample is reset (\`?reset=tick_lag\`), and the level is held ${HOLD_SECONDS} s (ended after ${EARLY_END_SECONDS} s once frames were late). A level passes with 0 late frames, tick lag p99 < ${TICK_P99_LIMIT_MS} ms, the encoder threads at most ${ENCODER_LAG_LIMIT_MS} ms behind at the end of the window (a thread that cannot keep up falls further behind every second, and files finish that much after their stop), every source and recording live, and the generator keeping pace (send lag p99 ≤ ${STREAMER_LAG_P99_LIMIT_MS} ms, half the gateway's ${JITTER_MS} ms jitter window, so every frame still reached the mix in real time; ≥ 98% of the frames due sent). A tick-lag miss fails the level whatever the generator did (it is the gateway's own event loop), and so do late frames when no frame was sent ${JITTER_MS} ms or more late; otherwise a level where the generator fell behind is *generator-bound*, not a gateway failure. A level that did not pass while other work on the machine kept ≥ ${RETRY_OTHERS_CORES} cores busy is held for a second window, whose verdict counts.

**Sustained: ${fmt(capacity.sustainedMpcs)} MPCs (${fmt(capacity.sustainedStreams)} streams).** Ramp ended: ${capacity.stopReason}.${capacity.notAttempted.length ? ` Not attempted: ${capacity.notAttempted.map((l) => `${l.mpcs} MPCs${l.predictedMainThreadCpuPercent === null ? '' : ` (would need ~${fmt(l.predictedMainThreadCpuPercent)}% of the busiest mixing thread at the last pass's rate)`}`).join(', ')}.` : ''}
`);
    lines.push(
      table(
        ['MPCs', 'Streams', 'Verdict', 'Tick lag p50 / p99 / max (ms)', 'Ticks run / due in the window', 'Late frames', 'Encoder lag (ms)', 'Gateway CPU: all processes / busiest mixing thread / API thread', 'Gateway RSS, all processes (after GC)', 'Generator send lag p99 / max', 'Generator CPU', 'Machine: cores busy / others / steal', 'Load avg 1 min', 'Set-up'],
        capacity.levels.map((l) => [
          `${l.mpcs}${l.refinement ? ' (back down)' : ''}${l.superseded ? ' (1st window)' : ''}${l.retry ? ' (2nd window)' : ''}`,
          l.streams,
          `${l.verdict}${l.reasons.length ? `: ${l.reasons.join('; ')}` : ''}`,
          `${fmt(l.tickLagMs.p50, 1)} / ${fmt(l.tickLagMs.p99, 1)} / ${fmt(l.tickLagMs.max, 1)}`,
          `${l.tickLagMs.samples} / ${l.tickLagMs.expected} in ${fmt(l.holdSeconds, 1)} s${l.endedEarly ? ' (ended early)' : ''}`,
          fmt(l.lateFrames),
          l.encoderLagMs === undefined ? '—' : fmt(l.encoderLagMs),
          `${fmt(l.gateway.cpuPercent)}% / ${fmt(l.gateway.mainThreadCpuPercent)}% (user ${fmt(l.gateway.mainThreadCpu?.user)}% + kernel ${fmt(l.gateway.mainThreadCpu?.system)}%) / ${fmt(l.gateway.gatewayThreadCpu?.total)}%`,
          `${mib(l.gateway.rss)} (${mib(l.gateway.afterGc.rss)})`,
          `${fmt(l.generator.sendLagMs.p99, 1)} / ${fmt(l.generator.sendLagMs.max, 1)} ms`,
          `${fmt(l.generator.cpuPercent)}%`,
          l.machine ? `${fmt(l.machine.busy, 2)} / ${fmt(l.machine.othersCores, 2)} / ${fmt(l.machine.steal, 2)}` : 'n/a',
          fmt(l.loadAverage.during[0], 2),
          l.retry ? 'none (same MPCs)' : l.refinement ? `removed ${l.setup.removedMpcs} MPCs in ${l.setup.seconds} s (recovered in ${fmt(l.setup.recoverySeconds, 1)} s)` : `${l.setup.newMpcs} MPCs in ${l.setup.seconds} s (${fmt(l.setup.apiRequestsPerSecond)} req/s; ${fmt(l.setup.lateFramesDuringSetup)} late frames; tick lag p99 / max ${fmt(l.setup.tickLagDuringSetupMs.p99)} / ${fmt(l.setup.tickLagDuringSetupMs.max)} ms)`,
        ]),
      ),
    );
    lines.push(`
CPU is of one core (100% = a core busy), from /proc/<pid>/stat over the window, for the gateway process and its ${capacity.levels[0]?.gateway?.shards ?? 0} media shards together (MEDIA_SHARDS, its default on this machine). The "busiest mixing thread" is the event loop (/proc/<pid>/task/<pid>/stat) of the busiest media shard: it reads that shard's WebSockets and runs its mixer and recorders, and the tick lag is the worst shard's; the "API thread" is the gateway process's event loop (API, PGlite, callbacks), which mixes nothing. The machine has ${m.cpuCount} cores shared by the gateway, the generator and anything else running. "Machine" is from /proc/stat over the window, in cores: all busy time, what is left after the gateway, the generator and the bench process ("others": other work on the shared machine, plus the kernel's share of networking), and steal (time the hypervisor gave elsewhere). "Ticks run / due": the recorder's ${capacity.levels[0]?.tickLagMs?.tickMs ?? "?"} ms ticks that ran in the window, against the window's length ÷ the tick.

${capacity.backTo ? `After the ramp the gateway was brought back to ${capacity.backTo.mpcs} MPCs (the last level that passed): ${capacity.backTo.removedMpcs} MPCs removed in ${fmt(capacity.backTo.seconds, 1)} s, of which ${fmt(capacity.backTo.recoverySeconds, 1)} s waiting for the event loop to keep time again.\n\n` : ''}${capacity.drain ? `Right after the ramp, ${capacity.drain.recordings} recordings stopped at once had their files ${fmt(capacity.drain.seconds, 1)} s later (what the last level left behind: the encoder lag above says how much of it was encoding), before the stops below were measured.\n\n` : ''}${capacity.stopUnderLoad ? `Stop → file with ${capacity.stopUnderLoad.mpcs} MPCs live (${capacity.stopUnderLoad.passed ? 'a level that passed' : 'a level that did not pass'}), ${capacity.stopUnderLoad.runs.length} recordings stopped one after another while the others kept recording: p50 ${fmt(capacity.stopUnderLoad.ms.p50, 1)} ms, max ${fmt(capacity.stopUnderLoad.ms.max, 1)} ms.` : ''} ${capacity.verification.length ? `Files checked afterwards: ${capacity.verification.map((c) => `${c.status}, ${fmt(c.durationMs / 1000, 1)} s, ${fmt(c.bytes)} B${c.ok ? '' : ' (WRONG)'}`).join('; ')}.` : ''}${capacity.afterRampError ? `\n\n**After the ramp:** ${capacity.afterRampError}` : ''}`);
    if (capacity.profile) {
      const p = capacity.profile;
      lines.push(`
CPU profile (inspector, 1 ms sampling) of ${p.shard ? `the busiest media shard (pid ${p.pid}, ${fmt(p.mpcsOnProcess)} MPCs)` : 'the gateway process'}, ${p.seconds} s at the end of the ramp: ${p.mpcs} MPCs streaming, ${p.recording} of them recording; the gateway's processes used ${fmt(p.gatewayCpuPercent)}% CPU (that process's main thread ${fmt(p.mainThreadCpuPercent)}%: user ${fmt(p.mainThreadCpu?.user)}%, kernel ${fmt(p.mainThreadCpu?.system)}%) while sampled. Top self time of the main thread's JavaScript and WebAssembly, as a share of the samples not reported as \`(idle)\` (Node marks the isolate idle around libuv's I/O phase, so native and kernel work there, such as reading sockets, is left out: compare the kernel share above); the profiler itself weighs on the gateway, so read it as a ranking:
`);
      lines.push(table(['Function', 'Where', 'Self ms', 'Self %'], p.top.map((f) => [f.function, f.where, fmt(f.selfMs, 1), `${fmt(f.selfPercent, 1)}%`])));
      lines.push(`\nThe same profile by area (self time of every function, grouped by where it lives):\n`);
      lines.push(table(['Area', 'Self ms', 'Self %'], p.byArea.map((a) => [a.area, fmt(a.selfMs, 1), `${fmt(a.selfPercent, 1)}%`])));
      if (p.file) lines.push(`\nProfile written to ${p.file}.`);
    }
  }

  lines.push(`
## 3. Stop → file complete
`);
  if (Object.keys(sink).length) {
    lines.push(`Sink level, in the bench process: the gateway's \`RecordingSink\` with the real \`createEncoder\` and \`FsRecordingStorage\` in a temp dir, as the gateway sets them up for a call mixed at 16 kHz (its first stream wideband): 16 kHz mix, 16 kHz file (mp3 at 48 kbit/s, or wav), the largest files the gateway writes, so the most for fsync to flush. Each is fed one hour of a mixed four-party call (20 ms frames, as fast as possible, waiting for the file writes to catch up so no backlog is left), then \`finish()\` timed: encoder flush, final header, fsync, close, rename (the work a stop triggers once the mix reaches it, after the ${'100 ms'} jitter window). Recordings are fed a few at a time (see the table) and finished one after another with nothing else running; each hour of the file is still in the page cache, unlike a live hour whose older pages the kernel has written back, so fsync here is the worst case.
`);
    lines.push(
      table(
        ['Format', 'One-hour recordings', 'finish() p50', 'p90', 'p99', 'max', 'File', 'Feed time per hour', 'Load avg 1 min', 'Target'],
        ['mp3', 'wav'].filter((f) => sink[f]).map((f) => {
          const s = sink[f];
          return [f, `${s.runs.length} (${s.concurrency} at a time)`, `${fmt(s.finishMs.p50, 1)} ms`, `${fmt(s.finishMs.p90, 1)} ms`, `${fmt(s.finishMs.p99, 1)} ms`, `${fmt(s.finishMs.max, 1)} ms`, mib(s.runs[0]?.bytes, 1), `${fmt(s.runs[0]?.feedSecondsPerHour, 1)} s`, fmt(s.loadAverage[0], 2), `p99 < ${TARGETS.stopP99Ms} ms: ${status(t[`stopSink_${f}`].met)}`];
        }),
      ),
    );
    const short = ['mp3', 'wav'].filter((f) => sink[f] && sink[f].runs.length < 20);
    if (short.length) lines.push(`\nTime-bound: ${short.map((f) => `${sink[f].runs.length} one-hour ${f} recordings`).join(' and ')} instead of 20 (the scenario is kept to ~${Math.round(BUDGET_SECONDS / 60)} minutes); with so few runs p99 is the maximum.`);
  }
  if (e2e) {
    lines.push(`
End to end through the gateway (quiet: ${E2E_RECORDINGS} MPCs with 2 streaming participants each, nothing else): ${e2e.recordings} recordings of ${e2e.seconds} s, mp3 and wav alternately, stopped ${E2E_STAGGER_MS} ms apart; time from the DELETE …/Record/ response to the first GET of recording_url answering 200 (polled every 10 ms, so figures are up to ~10 ms coarse). It includes the ${'100 ms'} jitter window the mix waits for late frames, the next 20 ms tick, \`finish()\` and the database update. Load average: ${la(e2e.loadAverage)}.
`);
    lines.push(table(['Recordings', 'Count', 'p50', 'p90', 'p99', 'max'], [['all', e2e.all], ['mp3', e2e.mp3], ['wav', e2e.wav]].map(([name, s]) => [name, s.count, `${fmt(s.p50, 1)} ms`, `${fmt(s.p90, 1)} ms`, `${fmt(s.p99, 1)} ms`, `${fmt(s.max, 1)} ms`])));
  }

  lines.push(`
## 4. Memory
`);
  if (per) {
    lines.push(`Per live MPC (4 streams, one mp3 recording), from the capacity levels: gateway RSS after a full GC at the end of each level, minus the idle gateway's (${mib(per.idle.rss)} after a full GC; heap ${mib(per.idle.heapUsed, 1)}, external ${mib(per.idle.external)}), ÷ MPCs. Least-squares slope over the levels (with the idle point): **${mib(per.fittedBytesPerMpc, 2)} per MPC**.
`);
    lines.push(table(['MPCs', 'RSS after GC', 'Per MPC (after GC)', 'Per MPC (no GC)', 'External per MPC'], per.perLevel.map((l) => [l.mpcs, mib(l.rssAfterGc), mib(l.perMpcBytes, 2), mib(l.perMpcBytesNoGc, 2), mib(l.externalPerMpcBytes, 2)])));
    lines.push(`\n"External" counts each MP3 recording's WebAssembly memory (LAME reserves 16 MiB per instance) at its full size, though only the pages it touches are resident.`);
  }
  if (two) {
    lines.push(`
Over a two-hour recording (sink level, bench process, one ${two.format} recording of a narrowband call, ${two.mixRate / 1000} kHz mix and file, the gateway's usual case, fed ${two.hours} h of audio in ${fmt(two.seconds, 1)} s, waiting for the file writes every 5 s of audio; memory sampled after a full GC every ${two.everyMinutes} recorded minutes). Slope over the second hour (60–120 min): RSS ${fmt(two.secondHourSlopeMiBPerHour.rss, 2)}, heap used ${fmt(two.secondHourSlopeMiBPerHour.heapUsed, 2)}, external ${fmt(two.secondHourSlopeMiBPerHour.external, 2)} MiB per recorded hour (target: flat, ${t.memoryFlat.target}: **${status(t.memoryFlat.met)}**). From minute ${two.everyMinutes} on: RSS ${fmt(two.slopeMiBPerHour.rss, 2)}, heap used ${fmt(two.slopeMiBPerHour.heapUsed, 2)} MiB per hour. Heap *used* is the one to watch for a leak; RSS follows heap *total*, which V8 grows in the first tens of minutes because this feed allocates at several hundred times real time, then holds.
`);
    lines.push(table(['Recorded', 'RSS', 'Heap total', 'Heap used', 'External', 'Array buffers'], two.series.map((s) => [`${s.minutes} min`, mib(s.rss, 1), mib(s.heapTotal, 1), mib(s.heapUsed, 2), mib(s.external, 1), mib(s.arrayBuffers, 2)])));
  }

  if (report.gatewayOutput?.warnings?.length) lines.push(`\nThe gateway logged (last lines at LOG_LEVEL=warn):\n\n\`\`\`\n${report.gatewayOutput.warnings.join('\n')}\n\`\`\`\n`);
  lines.push(`
## Phases

${table(['Phase', 'Seconds', 'Load avg after (1/5/15 min)'], Object.entries(report.phases).map(([name, p]) => [name, fmt(p.seconds, 1), la(p.loadAverageAfter)]))}
`);
  if (report.problems.length) lines.push(`**ERRORS** (the bench failed):\n${report.problems.map((p) => `- ${p}`).join('\n')}\n`);
  return lines.join('\n');
}
