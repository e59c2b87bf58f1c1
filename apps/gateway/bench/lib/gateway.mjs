// Starts the built gateway (apps/gateway/dist/main.js) as a child process on 127.0.0.1 with a
// throw-away DATA_DIR, waits until it is ready, and always tears both down again.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { childrenOf, cpuSecondsOf } from './proc.mjs';

export const GATEWAY_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const MAIN_JS = join(GATEWAY_DIR, 'dist', 'main.js');

export const BENCH_ACCOUNT = Object.freeze({
  authId: 'MABENCH0000000000001',
  authToken: 'bench-token-000000000000000001',
});
/** The Authorization header of the bench account's API calls. */
export const BENCH_AUTH = `Basic ${Buffer.from(`${BENCH_ACCOUNT.authId}:${BENCH_ACCOUNT.authToken}`).toString('base64')}`;
/** The API path of the bench account's MPC `name`. */
export const benchMpcPath = (name) => `/v1/Account/${BENCH_ACCOUNT.authId}/MultiPartyCall/name_${name}`;

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const LISTEN_LINE = /MPC recording gateway on (http:\/\/\S+)/;

/** Everything started and not yet torn down, so an exit hook can clean up after a crash. */
const live = new Set();

/** Last-resort synchronous cleanup, for process 'exit' (async work is impossible there). */
export function killAllSync() {
  for (const gateway of live) {
    try {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
    } catch {}
    try {
      rmSync(gateway.dataDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {}
    live.delete(gateway);
  }
}

/** Stops every gateway still running (used on SIGINT/SIGTERM). */
export async function stopAll() {
  await Promise.allSettled([...live].map((gateway) => gateway.stop()));
}

/**
 * Starts a gateway, hands it to `use`, and stops it and removes its DATA_DIR afterwards,
 * whether `use` succeeded or threw.
 */
export async function withGateway(options, use) {
  const gateway = await startGateway(options);
  try {
    return await use(gateway);
  } finally {
    await gateway.stop();
  }
}

/**
 * @param {{ logLevel?: string, env?: Record<string,string>, nodeArgs?: string[], stopGraceMs?: number, log?: (line: string) => void }} options
 *   nodeArgs: extra node flags for the gateway, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] (a
 *   profile is written when the gateway exits on SIGTERM).
 */
export async function startGateway({ logLevel = 'warn', env = {}, nodeArgs = [], stopGraceMs = STOP_GRACE_MS, log = () => {} } = {}) {
  if (!existsSync(MAIN_JS)) {
    throw new Error(`${MAIN_JS} does not exist; build first (cd /work/main && pnpm build)`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'mpc-bench-'));
  const child = spawn(process.execPath, [...nodeArgs, MAIN_JS], {
    cwd: GATEWAY_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      ACCOUNTS: `${BENCH_ACCOUNT.authId}:${BENCH_ACCOUNT.authToken}`,
      RATE_LIMIT_REQUESTS: '0',
      LOG_LEVEL: logLevel,
      ...env,
    },
  });

  // Keep the tail of the child's output for error messages, and keep draining both pipes so
  // a chatty gateway never blocks on a full pipe.
  const tail = [];
  const output = { lines: 0, bytes: 0 };
  const remember = (stream) => (chunk) => {
    output.bytes += chunk.length;
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      output.lines++;
      tail.push(`[gateway ${stream}] ${line}`);
      if (tail.length > 40) tail.shift();
    }
  };
  let stdoutBuffer = '';
  let resolveUrl;
  const urlPromise = new Promise((res) => (resolveUrl = res));
  child.stdout.on('data', (chunk) => {
    remember('stdout')(chunk);
    if (stdoutBuffer === null) return;
    stdoutBuffer += chunk.toString();
    const match = LISTEN_LINE.exec(stdoutBuffer);
    if (match) {
      stdoutBuffer = null;
      resolveUrl(match[1]);
    }
  });
  child.stderr.on('data', remember('stderr'));
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));

  let stopped = null;
  const gateway = {
    child,
    dataDir,
    url: undefined,
    logLevel,
    outputTail: () => tail.join('\n'),
    /**
     * CPU seconds (user+system) the gateway has used so far, its media shards (child processes)
     * included; null where /proc is missing. A shard that has exited takes its share with it.
     */
    cpuSeconds: () => treeCpuSeconds(child.pid),
    /**
     * The same, by where it ran: the gateway's event loop (its main thread), its other threads
     * (V8's compiler and garbage-collector helpers, libuv's pool), and its media shards; null where
     * /proc is missing.
     */
    cpuSecondsByPlace: () => cpuByPlace(child.pid),
    /** How much the gateway wrote to stdout+stderr so far (log volume at its LOG_LEVEL). */
    output: () => ({ ...output }),
    stop() {
      stopped ??= (async () => {
        const stopping = Date.now();
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          let timer;
          const outcome = await Promise.race([exited, new Promise((res) => (timer = setTimeout(res, stopGraceMs, null)))]);
          clearTimeout(timer);
          if (outcome === null) {
            log(`the gateway did not exit within ${stopGraceMs} ms of SIGTERM; killing it`);
            child.kill('SIGKILL');
            await exited;
          }
          log(`gateway stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
        }
        await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
        live.delete(gateway);
      })();
      return stopped;
    },
  };
  live.add(gateway);

  try {
    const started = Date.now();
    const url = await new Promise((res, rej) => {
      const timer = setTimeout(
        () => rej(new Error(`the gateway did not print its URL within ${STARTUP_TIMEOUT_MS / 1000} s`)),
        STARTUP_TIMEOUT_MS,
      );
      urlPromise.then((value) => {
        clearTimeout(timer);
        res(value);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        rej(new Error(`the gateway exited during start-up (code ${code}, signal ${signal})`));
      });
    });
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`the gateway listens on ${url}, not on 127.0.0.1`);
    gateway.url = url;
    await waitReady(url, started + STARTUP_TIMEOUT_MS);
    log(`gateway ready at ${url} after ${((Date.now() - started) / 1000).toFixed(1)} s (LOG_LEVEL=${logLevel})`);
    return gateway;
  } catch (error) {
    await gateway.stop();
    const detail = tail.length ? `\n${tail.join('\n')}` : '';
    throw new Error(`${error.message}${detail}`, { cause: error });
  }
}

async function waitReady(url, deadline) {
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error.message;
    }
    await sleep(100);
  }
  throw new Error(`GET /health/ready never answered 200 (last: ${last})`);
}

function treeCpuSeconds(pid) {
  const own = cpuSecondsOf(pid);
  if (own === null) return null;
  return childrenOf(pid).reduce((sum, child) => sum + (cpuSecondsOf(child) ?? 0), own);
}

function cpuByPlace(pid) {
  const whole = cpuSecondsOf(pid);
  const eventLoop = cpuSecondsOf(`${pid}/task/${pid}`);
  if (whole === null || eventLoop === null) return null;
  const shards = childrenOf(pid).reduce((sum, child) => sum + (cpuSecondsOf(child) ?? 0), 0);
  return { eventLoop, otherThreads: whole - eventLoop, shards };
}
