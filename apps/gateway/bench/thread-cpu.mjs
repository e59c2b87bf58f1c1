#!/usr/bin/env node
// Where a recording start+stop cycle's CPU goes: runs the `api` bench's cycles against a built gateway
// (10 connections, each on its own MPC; 10 s warm-up, then 8 s measured) and prints the CPU time of
// every thread of the gateway and of its media shards, per request, with its page faults (minor:
// memory the kernel maps on first touch), from /proc (Linux only).
//
//   node apps/gateway/bench/thread-cpu.mjs [mp3|wav]
//
// A thread whose id is its process's id is that process's event loop; the others are its encoder
// thread, V8's compiler and garbage-collector helpers and libuv's pool.
import { readdirSync } from 'node:fs';
import { withGateway } from './lib/gateway.mjs';
import { load } from './lib/load.mjs';
import { childrenOf, statFields } from './lib/proc.mjs';
import { createActiveMpcs, cycleRequests } from './lib/recording-cycles.mjs';

const FORMAT = process.argv[2] ?? 'mp3';
const CONNECTIONS = 10;

/** CPU milliseconds (user + system) and minor page faults of every thread of `pid` and of its children, keyed `process/thread`. */
function threadCpu(pid) {
  const children = childrenOf(pid).map(String);
  const out = new Map();
  for (const [role, id] of [['gateway', String(pid)], ...children.map((child) => ['shard', child])]) {
    for (const tid of readdirSync(`/proc/${id}/task`, { withFileTypes: false })) {
      const fields = statFields(`${id}/task/${tid}`);
      if (fields) out.set(`${role} ${id}/${tid === id ? 'event loop' : `thread ${tid}`}`, { ms: (Number(fields[11]) + Number(fields[12])) * 10, faults: Number(fields[7]) });
    }
  }
  return out;
}

await withGateway({}, async (gateway) => {
  const names = Array.from({ length: CONNECTIONS }, (_, i) => `threads_${i}`);
  await createActiveMpcs(gateway.url, names);
  const body = JSON.stringify({ file_format: FORMAT });
  const cycles = (duration) => {
    let next = 0;
    return {
      url: gateway.url,
      connections: CONNECTIONS,
      duration,
      setupClient(client) {
        client.setRequests(cycleRequests(names[next++ % CONNECTIONS], body));
      },
    };
  };
  await load(cycles(10), gateway);
  const before = threadCpu(gateway.child.pid);
  const run = await load(cycles(8), gateway);
  const after = threadCpu(gateway.child.pid);
  const rows = [...after]
    .map(([thread, { ms, faults }]) => [thread, ms - (before.get(thread)?.ms ?? 0), faults - (before.get(thread)?.faults ?? 0)])
    .filter(([, ms, faults]) => ms > 0 || faults > 0)
    .sort((a, b) => b[1] - a[1]);
  const perRequest = (value, digits) => (value / run.completedRequests).toFixed(digits);
  process.stdout.write(`${FORMAT} cycles: ${run.requestsPerSecond.toFixed(0)} req/s, ${run.non2xx} non-2xx; per request, by thread:\n  CPU ms  faults\n`);
  for (const [thread, ms, faults] of rows) process.stdout.write(`${perRequest(ms, 3).padStart(8)} ${perRequest(faults, 1).padStart(7)}  ${thread}\n`);
  const sum = (i) => rows.reduce((total, row) => total + row[i], 0);
  process.stdout.write(`${perRequest(sum(1), 3).padStart(8)} ${perRequest(sum(2), 1).padStart(7)}  all\n`);
});
