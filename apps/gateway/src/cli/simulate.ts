#!/usr/bin/env node
/**
 * `mpc-simulate`: runs a whole multiparty call against a running gateway and reports what it
 * recorded. See USAGE in simulate/options.ts, or run it with --help.
 */
import { parseOptions, USAGE, UsageError } from './simulate/options.js';
import { Progress } from './simulate/progress.js';
import { runSimulation } from './simulate/run.js';
import { formatSummary } from './simulate/summary.js';

class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

async function main(): Promise<number> {
  // Under `pnpm simulate` the process runs in apps/gateway; paths are the user's, from INIT_CWD.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  let parsed;
  try {
    parsed = parseOptions(process.argv.slice(2), process.env, cwd);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`simulate: ${error.message}\nRun with --help for the options.\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort(new Interrupted('interrupted: hung up the streams and ended the MPC')));
  try {
    const result = await runSimulation(parsed.options, new Progress(), interrupt.signal);
    process.stdout.write(`${formatSummary(result, cwd)}\n`);
    const { recording_status: status, failure_reason: reason } = result.recording;
    if (status === 'completed') return 0;
    process.stderr.write(`simulate: the recording is ${status}${reason ? `: ${reason}` : ''}\n`);
    return 1;
  } catch (error) {
    // API failures carry Plivo's error text; anything else (a bad --wav file, a closed stream) its own message.
    process.stderr.write(`simulate: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof Interrupted ? 130 : 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`simulate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
