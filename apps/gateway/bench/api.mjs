// Scenario `api`: the cost of a recording start+stop cycle against the cheapest route.
//  1. bare route GET /health/live at full speed (after a warm-up);
//  2. start+stop cycles (POST then DELETE .../Record/) at full speed, one pre-created MPC per
//     connection so cycles never collide;
//  3. a sweep of paced rates below the fixed rate, for the highest one whose p99 stays under the
//     target;
//  4. the same cycles at the fixed offered rate, evenly spaced (bench/lib/paced.mjs), taking turns
//     over PACED_LANES MPCs;
//  5. the ratio cycle requests/s ÷ bare requests/s;
//  6. with the gateway stopped, the embedded database's own work for a cycle (db-cycle.mjs), beside
//     the CPU the ratio target leaves a cycle request on this machine.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { benchMpcPath as mpcPath, withGateway } from './lib/gateway.mjs';
import { load, problemsOf } from './lib/load.mjs';
import { paced } from './lib/paced.mjs';
import { createActiveMpcs, cycleRequests, expectStatus } from './lib/recording-cycles.mjs';
import { fmt, machine, table } from './lib/report.mjs';

export const description = 'bare route vs recording start/stop cycles (throughput, latency, fixed-rate p99)';

const CONNECTIONS = 10;
const WARMUP_SECONDS = 2;
// Cycles warm up longer: under load V8 optimizes the gateway's JavaScript and, in tiers, the embedded
// database's WebAssembly, for ~10 s running partly on baseline code and paying for the optimizing
// compiler on the same two cores (~6 ms CPU per request in the first 4 s, under 3 ms from the ninth
// second; with the WebAssembly compiled eagerly, 4.3 ms in the first 4 s).
const CYCLE_WARMUP_SECONDS = 10;
const BARE_SECONDS = 8;
const CYCLE_SECONDS = 8;
const RATE_SECONDS = 10;
const FIXED_RATE = 500; // requests/s offered in run 4
const PACED_LANES = 50; // MPCs the fixed-rate requests take turns on: one start or stop due per MPC every 100 ms
const SWEEP_RATES = [100, 200, 300, 400]; // requests/s, evenly paced, below the fixed rate
const SWEEP_SECONDS = 5;
const SETTLE_MS = 2000; // between paced runs, for the recordings of the last one to finish
const TARGET_P99_MS = 20;
const TARGET_RATIO = 1 / 3;

const START_BODY = JSON.stringify({ file_format: 'mp3', recording_callback_method: 'POST' });
const DB_CYCLE_JS = fileURLToPath(new URL('./db-cycle.mjs', import.meta.url));
const DB_CYCLES = 3000; // measured, after as many to warm up

/** @param {{ log: (line: string) => void, command: string }} context */
export async function run({ log, command }) {
  const logLevel = process.env.BENCH_GATEWAY_LOG_LEVEL || 'warn';
  const startedAt = new Date();
  const host = machine(); // before any load, so its load average shows other work on the machine
  const runs = {};
  let gatewayOutput;
  const problems = [];

  await withGateway({ logLevel, log }, async (gateway) => {
    const url = gateway.url;
    const outputBefore = gateway.output(); // the start-up banner is not a log line

    // One MPC per connection (and per lane of the fixed-rate run), each with an Agent and a Customer, so it is active.
    const names = Array.from({ length: Math.max(CONNECTIONS, PACED_LANES) }, (_, i) => `bench_api_${startedAt.getTime()}_${i}`);
    await createActiveMpcs(url, names);
    // One checked cycle before the load, so a broken API fails with a readable message.
    const started = await expectStatus(url, 'POST', `${mpcPath(names[0])}/Record/`, JSON.parse(START_BODY), 202);
    for (const field of ['api_id', 'message', 'recording_id', 'recording_url']) {
      if (!(field in started)) throw new Error(`POST Record answered without ${field}: ${JSON.stringify(started)}`);
    }
    await expectStatus(url, 'DELETE', `${mpcPath(names[0])}/Record/`, {}, 204);
    log(`created ${names.length} MPCs with 2 participants each`);

    const cycleOf = (name) => cycleRequests(name, START_BODY);
    const bare = { url: `${url}/health/live`, connections: CONNECTIONS };
    log(`bare route: ${WARMUP_SECONDS} s warm-up + ${BARE_SECONDS} s, ${CONNECTIONS} connections`);
    await load({ ...bare, duration: WARMUP_SECONDS, title: 'bare warm-up' }, gateway);
    runs.bare = await load({ ...bare, duration: BARE_SECONDS, title: 'bare' }, gateway);
    problems.push(...problemsOf('bare route', runs.bare));

    const cycles = () => {
      let next = 0;
      return {
        url,
        connections: CONNECTIONS,
        // Each connection gets its own MPC: POST Record, then DELETE Record, forever.
        setupClient(client) {
          client.setRequests(cycleOf(names[next++ % CONNECTIONS]));
        },
      };
    };
    log(`start+stop cycles: ${CYCLE_WARMUP_SECONDS} s warm-up + ${CYCLE_SECONDS} s, ${CONNECTIONS} connections`);
    runs.cyclesWarmUp = await load({ ...cycles(), duration: CYCLE_WARMUP_SECONDS, title: 'cycles warm-up' }, gateway);
    problems.push(...problemsOf('cycles warm-up', runs.cyclesWarmUp));
    runs.cycles = await load({ ...cycles(), duration: CYCLE_SECONDS, title: 'cycles' }, gateway);
    problems.push(...problemsOf('start+stop cycles', runs.cycles));

    // The lower rates first: an overloaded run leaves recordings to finish behind it.
    runs.sweep = [];
    for (const rate of SWEEP_RATES) {
      await sleep(SETTLE_MS);
      log(`sweep: ${rate} req/s evenly spaced for ${SWEEP_SECONDS} s`);
      const run = await paced({ url, rate, seconds: SWEEP_SECONDS, lanes: names.slice(0, PACED_LANES).map(cycleOf) }, gateway);
      problems.push(...problemsOf(`cycles at ${rate} req/s`, run));
      runs.sweep.push(run);
      if (!(run.latencyMs.p99 < TARGET_P99_MS)) break; // the higher rates cannot do better
    }

    await sleep(SETTLE_MS);
    log(`start+stop cycles at ${FIXED_RATE} req/s offered, evenly spaced: ${RATE_SECONDS} s over ${PACED_LANES} MPCs`);
    runs.fixedRate = await paced({ url, rate: FIXED_RATE, seconds: RATE_SECONDS, lanes: names.slice(0, PACED_LANES).map(cycleOf) }, gateway);
    problems.push(...problemsOf(`cycles at ${FIXED_RATE} req/s`, runs.fixedRate));
    const outputAfter = gateway.output();
    gatewayOutput = { lines: outputAfter.lines - outputBefore.lines, bytes: outputAfter.bytes - outputBefore.bytes };
  });

  // After the gateway stopped, so that nothing else runs beside it.
  log(`the embedded database alone: db-cycle.mjs, ${DB_CYCLES} cycles after as many to warm up`);
  const { stdout } = await promisify(execFile)(process.execPath, [DB_CYCLE_JS, String(DB_CYCLES), '--json']);
  const databaseAlone = JSON.parse(stdout);

  const { bare, cycles, fixedRate } = runs;
  const ratio = cycles.requestsPerSecond / bare.requestsPerSecond;
  // At the target ratio, the machine's cores would share this much CPU per cycle request among
  // everything that serves it: the gateway, its media shards and the load generator.
  const budgetMs = (host.cpuCount * 1000) / (bare.requestsPerSecond * TARGET_RATIO);
  // The event loop is one thread: where both runs keep it busy, this is the ratio it allows.
  const eventLoopMs = (run) => byPlaceOf(run)?.eventLoop ?? null;
  const eventLoopRatio = eventLoopMs(bare) && eventLoopMs(cycles) ? eventLoopMs(bare) / eventLoopMs(cycles) : null;
  // Counted from each request's due time, so time spent queued behind a slow gateway counts too.
  const fixedP99 = fixedRate.latencyMs.p99;
  const withinTarget = runs.sweep.filter((run) => run.latencyMs.p99 < TARGET_P99_MS).map((run) => run.rate);
  const targets = {
    fixedRateP99: { target: `p99 < ${TARGET_P99_MS} ms`, value: fixedP99, met: fixedP99 < TARGET_P99_MS },
    ratio: { target: '≥ 1/3 (0.333)', value: ratio, met: ratio >= TARGET_RATIO },
    fixedRateSustained: { target: `≥ 95% of ${FIXED_RATE} req/s`, value: fixedRate.requestsPerSecond, met: fixedRate.requestsPerSecond >= 0.95 * FIXED_RATE },
    non2xx: { target: '0', value: cycles.non2xx + fixedRate.non2xx + bare.non2xx, met: problems.length === 0 },
  };

  const json = {
    scenario: 'api',
    date: startedAt.toISOString(),
    command,
    machine: host,
    gateway: { logLevel, rateLimit: 'disabled (RATE_LIMIT_REQUESTS=0)', process: 'separate child process', output: gatewayOutput },
    settings: { connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, cycleWarmupSeconds: CYCLE_WARMUP_SECONDS, bareSeconds: BARE_SECONDS, cycleSeconds: CYCLE_SECONDS, fixedRateSeconds: RATE_SECONDS, fixedRate: FIXED_RATE, pacedLanes: PACED_LANES, sweepRates: SWEEP_RATES, sweepSeconds: SWEEP_SECONDS },
    summary: {
      bareRequestsPerSecond: bare.requestsPerSecond,
      cycleRequestsPerSecond: cycles.requestsPerSecond,
      cyclesPerSecond: cycles.requestsPerSecond / 2,
      ratio,
      eventLoopRatio,
      fixedRateP99Ms: fixedP99,
      highestRateWithinP99Target: withinTarget.length ? Math.max(...withinTarget) : null,
      cpuMsPerCycleRequestAtTargetRatio: budgetMs,
      databaseAloneMsPerCycleRequest: databaseAlone.cpuUs / 1000 / 2,
    },
    targets,
    runs,
    databaseAlone,
    problems,
  };
  return { json, markdown: markdown(json), problems };
}

const status = (met) => (met ? 'met' : 'missed');
const ms = (latency) => `${fmt(latency.p50, 2)} / ${fmt(latency.p99, 2)} ms`;
const acMs = (run) => `${fmt(run.autocannon.latencyMs.p50)} / ${fmt(run.autocannon.latencyMs.p99)} ms`;

function markdown(report) {
  const { runs, targets, machine: m, settings: s } = report;
  const { bare, cycles, fixedRate } = runs;
  const summary = table(
    ['Measure', 'Result', 'Target', 'Status'],
    [
      ['Bare route `GET /health/live`: throughput', `${fmt(bare.requestsPerSecond)} req/s`, '—', '—'],
      ['Bare route: p50 / p99 latency', `${ms(bare.latencyMs)} (autocannon ${acMs(bare)})`, '—', '—'],
      ['Start+stop cycles: throughput', `${fmt(cycles.requestsPerSecond / 2)} cycles/s (${fmt(cycles.requestsPerSecond)} req/s)`, '—', '—'],
      ['Start+stop cycles: p50 / p99 latency', `${ms(cycles.latencyMs)} (autocannon ${acMs(cycles)})`, '—', '—'],
      ['Non-2xx responses / errors (all runs)', `${targets.non2xx.value} / ${bare.errors + cycles.errors + fixedRate.errors}`, '0', targets.non2xx.met ? 'pass' : 'FAIL'],
      [`Cycles at ${s.fixedRate} req/s offered: achieved`, `${fmt(fixedRate.requestsPerSecond)} req/s`, targets.fixedRateSustained.target, targets.fixedRateSustained.met ? 'sustained' : 'not sustained (gateway saturated)'],
      [`Cycles at ${s.fixedRate} req/s: p50 / p99 latency from the due time`, `${ms(fixedRate.latencyMs)} (from the send: ${ms(fixedRate.serviceLatencyMs)})`, targets.fixedRateP99.target, status(targets.fixedRateP99.met)],
      [`Highest evenly paced rate with p99 < ${TARGET_P99_MS} ms (of ${s.sweepRates.join(', ')} req/s)`, report.summary.highestRateWithinP99Target === null ? 'none' : `${fmt(report.summary.highestRateWithinP99Target)} req/s`, '—', '—'],
      ['Ratio: cycle req/s ÷ bare req/s', fmt(targets.ratio.value, 3), targets.ratio.target, status(targets.ratio.met)],
      ['Gateway CPU per request: bare / cycle request', `${fmt(bare.cpu.gatewayMsPerRequest, 2)} / ${fmt(cycles.cpu.gatewayMsPerRequest, 2)} ms`, '—', '—'],
      ["A cycle request's CPU by where it ran: gateway event loop / its other threads / media shards", byPlace(cycles), '—', '—'],
      ['Gateway event loop CPU per request: bare / cycle request (the ratio it allows)', `${fmt(byPlaceOf(bare)?.eventLoop, 2)} / ${fmt(byPlaceOf(cycles)?.eventLoop, 2)} ms (${fmt(report.summary.eventLoopRatio, 3)})`, '—', '—'],
      [`CPU a cycle request could use at the ratio target: ${m.cpuCount} cores ÷ (bare req/s ÷ 3)`, `${fmt(report.summary.cpuMsPerCycleRequestAtTargetRatio, 2)} ms`, '—', '—'],
      ['… used today by the load generator / by the embedded database alone (db-cycle.mjs) / by the gateway in all', `${fmt(cycles.cpu.benchMsPerRequest, 2)} / ${fmt(report.summary.databaseAloneMsPerCycleRequest, 2)} / ${fmt(cycles.cpu.gatewayMsPerRequest, 2)} ms`, '—', '—'],
    ],
  );
  const perMethod = table(
    ['Run', 'Request', 'Count', 'p50', 'p90', 'p99', 'max', 'Statuses'],
    [
      ['bare', 'GET /health/live', ...latencyCells(bare.latencyByMethodMs.GET), statusesOf(bare)],
      ...['POST', 'DELETE'].flatMap((method) =>
        [['cycles (max)', cycles], [`cycles (${s.fixedRate} req/s)`, fixedRate]].map(([label, run]) => [
          label,
          `${method} …/Record/`,
          ...latencyCells(run.latencyByMethodMs[method]),
          statusesOf(run, method),
        ]),
      ),
    ],
  );
  return `# Gateway API bench: bare route vs recording start/stop cycles

- Date: ${report.date}
- Reproduce: \`${report.command}\` (from the repository root, after \`pnpm build\`)
- Machine: ${m.cpu} × ${m.cpuCount}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; 1-min load average before the run: ${m.loadAverage1m}
- Gateway: \`node apps/gateway/dist/main.js\` in a child process, fresh PGlite DATA_DIR, LOG_LEVEL=${report.gateway.logLevel} (it wrote ${fmt(report.gateway.output?.lines)} log lines during the bench), rate limit off; load from autocannon and bench/lib/paced.mjs in the bench process over 127.0.0.1
- Load: bare and cycles from autocannon, ${s.connections} connections, as fast as the gateway answers: bare ${s.warmupSeconds} s warm-up + ${s.bareSeconds} s; cycles ${s.cycleWarmupSeconds} s warm-up + ${s.cycleSeconds} s, each connection cycling POST then DELETE \`…/MultiPartyCall/name_X/Record/\` on its own MPC. Fixed rate: ${s.fixedRate} requests/s for ${s.fixedRateSeconds} s, evenly spaced (request k due at start + k / rate, sent on keep-alive connections whether or not earlier ones were answered), the same cycles taking turns over ${s.pacedLanes} MPCs.

${summary}

Evenly paced cycles, ${s.sweepSeconds} s per rate, ${SETTLE_MS / 1000} s apart, before the fixed rate (latency from the due time; the sweep stops at the first rate over the target):

${table(
    ['Offered', 'Achieved', 'p50', 'p90', 'p99', 'max', 'p99 from the send', 'Gateway CPU'],
    runs.sweep.map((run) => [
      `${fmt(run.rate)} req/s`,
      `${fmt(run.requestsPerSecond)} req/s`,
      fmt(run.latencyMs.p50, 2),
      fmt(run.latencyMs.p90, 2),
      fmt(run.latencyMs.p99, 2),
      fmt(run.latencyMs.max, 2),
      fmt(run.serviceLatencyMs.p99, 2),
      `${fmt(run.cpu.gatewayCoreUtilisation, 2)} cores`,
    ]),
  )}

Latency per request (ms, exact response times):

${perMethod}

Notes:
- Requests/s = completed responses ÷ elapsed seconds; cycles/s = requests/s ÷ 2.
- The cycles warm up for ${s.cycleWarmupSeconds} s because V8 optimizes the gateway's JavaScript and the embedded database's WebAssembly under load: the warm-up itself made ${fmt(runs.cyclesWarmUp.requestsPerSecond)} req/s at ${fmt(runs.cyclesWarmUp.cpu.gatewayMsPerRequest, 2)} ms of gateway CPU per request, a gateway that has just started answers at that pace.
- Gateway CPU per request = the user+system CPU time of the gateway process and its media shards (its child processes, which create and finish the recordings' files) during the run (from /proc) ÷ completed requests. Other work on the machine (see the load average above) inflates it too, but it shows how much of a core one request costs; the gateway used ${fmt(bare.cpu.gatewayCoreUtilisation, 2)} / ${fmt(cycles.cpu.gatewayCoreUtilisation, 2)} / ${fmt(fixedRate.cpu.gatewayCoreUtilisation, 2)} cores in the bare / cycles / fixed-rate runs.
- The gateway's event loop is one thread, and both the bare route and the cycles keep it busy when run as fast as it answers: the ratio of its CPU per request (bare ÷ cycle) is the throughput ratio it allows, whatever the other threads and processes do. Those share the machine's ${m.cpuCount} cores with the load generator (${fmt(cycles.cpu.benchMsPerRequest, 2)} ms per cycle request).
- The embedded database alone: after the gateway stopped, \`bench/db-cycle.mjs\` runs the gateway's own RecordingsService on a fresh PGlite, ${fmt(report.databaseAlone.cycles)} cycles after as many to warm up, each the start, stop and file transactions of a cycle, without HTTP or media: ${fmt(report.databaseAlone.cpuUs)} µs of CPU per cycle (${fmt(report.databaseAlone.insideUs)} µs inside PGlite's calls), half of it per request. Where it comes near the CPU the ratio target leaves a request, no gateway that writes each start and stop to this database in a transaction of its own can meet that target on this machine, whatever its HTTP layer and media plane cost.
- Latencies come from every response time measured in the bench (0.01 ms precision); the figures in brackets are autocannon's (1 ms resolution). At the fixed rate a request's latency runs from its due time, not from when it was sent, so a gateway that falls behind is charged for the queue it causes (no coordinated omission); the send-time figure is beside it. The generator sent requests at most ${fmt(fixedRate.maxLateSendMs, 1)} ms after they were due.
- The fixed rate is not autocannon's \`overallRate\`: that gives each connection a budget per second which it spends back to back at the start of the second, so the load arrives in bursts of every connection at once rather than at a rate.
${report.problems.length ? `\n**ERRORS** (the bench failed):\n${report.problems.map((p) => `- ${p}`).join('\n')}\n` : ''}`;
}

const byPlaceOf = (run) => run.cpu.gatewayMsPerRequestByPlace;

function byPlace(run) {
  const places = byPlaceOf(run);
  return places ? `${fmt(places.eventLoop, 2)} / ${fmt(places.otherThreads, 2)} / ${fmt(places.shards, 2)} ms` : 'n/a (no /proc)';
}

function latencyCells(latency) {
  if (!latency) return ['0', 'n/a', 'n/a', 'n/a', 'n/a'];
  return [fmt(latency.count), fmt(latency.p50, 2), fmt(latency.p90, 2), fmt(latency.p99, 2), fmt(latency.max, 2)];
}

function statusesOf(run, method) {
  return Object.entries(run.statuses)
    .filter(([key]) => !method || key.startsWith(`${method} `))
    .map(([key, count]) => `${key.split(' ')[1]}×${fmt(count)}`)
    .join(', ');
}
