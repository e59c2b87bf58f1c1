// Summarises a V8 CPU profile (.cpuprofile, from --cpu-prof or the inspector's Profiler domain):
// self time per function, heaviest first.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../..', import.meta.url)); // the repository root

/** [{ function, where, selfMs, selfPercent }] for the `limit` functions with the most self time. */
export function topSelfTime(profile, limit = 15) {
  const { nodes, samples = [], timeDeltas = [] } = profile;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  // timeDeltas[i] is the time before sample i; charge each sample the time until the next one.
  for (let i = 0; i < samples.length; i++) {
    const us = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, us));
  }
  const total = [...selfUs.values()].reduce((sum, us) => sum + us, 0) || 1;
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
  if (url.startsWith('data:application/wasm')) return 'wasm (inline module: LAME from wasm-media-encoders, or PGlite)';
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
