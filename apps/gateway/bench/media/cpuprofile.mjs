// Summarises a V8 CPU profile (.cpuprofile, from --cpu-prof or the inspector's Profiler domain):
// self time per function, heaviest first.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../..', import.meta.url)); // the repository root

/** [{ function, where, selfMs, selfPercent }] for the `limit` functions with the most self time; percent of the busy (non-idle) time. */
export function topSelfTime(profile, limit = 15) {
  const { nodes, samples = [], timeDeltas = [] } = profile;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  // timeDeltas[i] is the time before sample i; charge each sample the time until the next one.
  for (let i = 0; i < samples.length; i++) {
    const us = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, us));
  }
  // Shares are of the time the thread was busy: V8's "(idle)" samples (waiting for work) are left out.
  const idleIds = new Set(nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  const total = [...selfUs].reduce((sum, [id, us]) => (idleIds.has(id) ? sum : sum + us), 0) || 1;
  const byFunction = new Map();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = functionName || (url ? '(anonymous)' : '');
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${name || '(program)'} ${where}`;
    const entry = byFunction.get(key) ?? { function: name || byId.get(id).callFrame.functionName || '(native)', where, selfUs: 0 };
    entry.selfUs += us;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .filter((entry) => entry.function !== '(idle)')
    .sort((a, b) => b.selfUs - a.selfUs)
    .slice(0, limit)
    .map(({ function: fn, where, selfUs: us }) => ({
      function: fn,
      where,
      selfMs: Math.round(us / 100) / 10,
      selfPercent: Math.round((us / total) * 1000) / 10,
    }));
}

function shorten(url) {
  if (url.startsWith('data:application/wasm')) return 'LAME (wasm, inline in wasm-media-encoders)';
  if (url.startsWith('data:')) return 'data: URL';
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    const inRepo = relative(REPO, path);
    const modules = inRepo.lastIndexOf('node_modules/');
    if (modules >= 0) return inRepo.slice(modules + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
    return inRepo.startsWith('..') ? path : inRepo;
  }
  return url;
}

/** Areas of the gateway's media path, by where a function lives. */
const AREAS = [
  ['resampler (@mpc/media resample.js)', (f) => /media\/dist\/resample\.js/.test(f.where)],
  ['mixer (@mpc/media mixer.js)', (f) => /media\/dist\/mixer\.js/.test(f.where)],
  ['MP3 encoding (LAME wasm + mp3.js)', (f) => f.where.startsWith('LAME') || /media\/dist\/mp3/.test(f.where)],
  ['other @mpc/media', (f) => /packages\/media\/dist\//.test(f.where)],
  ['recorder (gateway dist/recorder)', (f) => /gateway\/dist\/recorder\//.test(f.where)],
  ['media ingress (gateway dist/media-ingress)', (f) => /gateway\/dist\/media-ingress\//.test(f.where)],
  ['other gateway code', (f) => /gateway\/dist\//.test(f.where)],
  ['ws (WebSocket library)', (f) => /^ws\//.test(f.where)],
  ['PGlite', (f) => /pglite/.test(f.where)],
  ['garbage collector', (f) => f.function === '(garbage collector)'],
  ['idle', (f) => f.function === '(idle)'],
  ['other JS dependencies', (f) => /\.(m?js|cjs):\d+$/.test(f.where) && !f.where.startsWith('node:')],
  ['Node.js internals and native code', () => true],
];

/** Self time summed by area (resampler, mixer, MP3, ws, GC, ...), heaviest first; percent of the busy (non-idle) time. */
export function selfTimeByArea(profile) {
  const all = topSelfTime(profile, Infinity);
  const areas = new Map();
  for (const f of all) {
    const [area] = AREAS.find(([, test]) => test(f));
    const entry = areas.get(area) ?? { area, selfMs: 0 };
    entry.selfMs += f.selfMs;
    areas.set(area, entry);
  }
  const total = [...areas.values()].reduce((sum, a) => (a.area === 'idle' ? sum : sum + a.selfMs), 0) || 1;
  return [...areas.values()]
    .filter((a) => a.area !== 'idle')
    .map((a) => ({ area: a.area, selfMs: Math.round(a.selfMs * 10) / 10, selfPercent: Math.round((a.selfMs / total) * 1000) / 10 }))
    .sort((a, b) => b.selfMs - a.selfMs);
}
