#!/usr/bin/env node
// Top self-time functions and packages of a V8 .cpuprofile (as written by node --cpu-prof).
//
//   node bench/lib/cpuprofile-top.mjs <file.cpuprofile> [--window <startUs> <endUs>] [--top N]
//
// --window keeps only the samples between two CLOCK_MONOTONIC timestamps in µs (V8's profile clock
// on Linux), e.g. one phase from a report's gateway.phasesMonotonicUs.
import { readFileSync } from 'node:fs';

export function topOfProfile(profile, { from = -Infinity, to = Infinity, top = 25 } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map(); // node id -> µs
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    // A sample stands for the interval up to the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + weight);
    total += weight;
  }
  const byFunction = new Map();
  const byPackage = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame } = nodes.get(id);
    const where = origin(callFrame.url, callFrame.functionName);
    const name = `${callFrame.functionName || '(anonymous)'} ${where.file ? `${where.file}:${callFrame.lineNumber + 1}` : ''}`.trim();
    const key = `${where.package}\u0000${name}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byPackage.set(where.package, (byPackage.get(where.package) ?? 0) + us);
  }
  const rank = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => ({ key, ms: Math.round(us / 100) / 10, share: Math.round((us / total) * 1000) / 10 }));
  return {
    sampledMs: Math.round(total / 1000),
    functions: rank(byFunction).map(({ key, ...rest }) => {
      const [pkg, name] = key.split('\u0000');
      return { package: pkg, function: name, ...rest };
    }),
    packages: rank(byPackage).map(({ key, ...rest }) => ({ package: key, ...rest })),
  };
}

/** Which package a frame belongs to: a node_modules package, node itself, the gateway, wasm, or V8. */
function origin(url, functionName) {
  if (!url) return { package: functionName.startsWith('(') ? functionName : '(native)', file: '' };
  if (url.startsWith('node:')) return { package: 'node', file: url.slice(5) };
  if (url.startsWith('wasm://')) return { package: 'wasm', file: url };
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    return { package: pkg, file: rest.slice(rest[0].startsWith('@') ? 2 : 1).join('/') };
  }
  const dist = url.indexOf('/apps/gateway/dist/');
  if (dist !== -1) return { package: '@mpc/gateway', file: url.slice(dist + '/apps/gateway/dist/'.length) };
  const pkgs = /\/packages\/([^/]+)\/dist\/(.*)$/.exec(url);
  if (pkgs) return { package: `@mpc/${pkgs[1]}`, file: pkgs[2] };
  return { package: 'other', file: url };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const file = args.find((arg) => !arg.startsWith('--') && !/^\d+$/.test(arg));
  if (!file) {
    process.stderr.write('usage: node bench/lib/cpuprofile-top.mjs <file.cpuprofile> [--window <startUs> <endUs>] [--top N]\n');
    process.exit(2);
  }
  const at = (flag) => args.indexOf(flag);
  const from = at('--window') === -1 ? -Infinity : Number(args[at('--window') + 1]);
  const to = at('--window') === -1 ? Infinity : Number(args[at('--window') + 2]);
  const top = at('--top') === -1 ? 25 : Number(args[at('--top') + 1]);
  const result = topOfProfile(JSON.parse(readFileSync(file, 'utf8')), { from, to, top });
  process.stdout.write(`sampled ${result.sampledMs} ms\n\nself time by package:\n`);
  for (const row of result.packages) process.stdout.write(`${String(row.ms).padStart(9)} ms ${String(row.share).padStart(5)}%  ${row.package}\n`);
  process.stdout.write('\nself time by function:\n');
  for (const row of result.functions) process.stdout.write(`${String(row.ms).padStart(9)} ms ${String(row.share).padStart(5)}%  [${row.package}] ${row.function}\n`);
}
