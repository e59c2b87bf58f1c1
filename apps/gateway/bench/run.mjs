#!/usr/bin/env node
// Gateway benchmarks.  `node bench/run.mjs [scenario...]` (or `pnpm bench [scenario...]` from the
// repository root) runs the named scenarios, or every scenario when none is named.
//
// A scenario is a module next to this file that exports
//   description: string
//   run({ log, command }): Promise<{ json, markdown, problems: string[] }>
// It starts whatever it needs (see lib/gateway.mjs: withGateway) and must clean up after itself.
// This runner writes bench/results/<name>.json and <name>.md, prints the Markdown, and exits
// non-zero when a scenario threw or reported problems (missed performance targets are not problems).
import { killAllSync, stopAll } from './lib/gateway.mjs';
import { writeReport } from './lib/report.mjs';

/** Scenario name -> module, in the order a plain `pnpm bench` runs them. Add `media`, `callbacks`, ... here. */
const SCENARIOS = {
  api: () => import('./api.mjs'),
  callbacks: () => import('./callbacks.mjs'),
  media: () => import('./media.mjs'),
};

const log = (line) => process.stderr.write(`[bench] ${line}\n`);

async function main(argv) {
  const requested = argv.filter((arg) => arg !== '--');
  if (requested.includes('--help') || requested.includes('-h')) {
    process.stdout.write(`usage: pnpm bench [${Object.keys(SCENARIOS).join('|')}]...\n`);
    return 0;
  }
  const unknown = requested.filter((name) => !(name in SCENARIOS));
  if (unknown.length) {
    log(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
    return 2;
  }
  const names = requested.length ? [...new Set(requested)] : Object.keys(SCENARIOS);

  let failed = false;
  for (const name of names) {
    const scenario = await SCENARIOS[name]();
    log(`scenario ${name}: ${scenario.description}`);
    const started = Date.now();
    try {
      const { json, markdown, problems } = await scenario.run({ log, command: `pnpm bench ${name}` });
      const { jsonPath, mdPath } = await writeReport(name, json, markdown);
      process.stdout.write(`${markdown}\n`);
      log(`scenario ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s; wrote ${jsonPath} and ${mdPath}`);
      if (problems.length) {
        failed = true;
        log(`scenario ${name} FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
      }
    } catch (error) {
      failed = true;
      log(`scenario ${name} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  return failed ? 1 : 0;
}

// Never leave a gateway or its temp dir behind, whatever happens.
process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    stopAll().finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    log(`FAILED: ${error?.stack ?? error}`);
    process.exitCode = 1;
  },
);
