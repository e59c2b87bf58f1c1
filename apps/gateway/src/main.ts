#!/usr/bin/env node
import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { startGateway } from './gateway.js';
import { InUseByAnotherGateway } from './persistence/data-dir-lock.js';

/**
 * V8 learns, from objects still alive at a young-generation collection, to allocate the objects of
 * their allocation sites straight into the old generation ("pretenuring"). A burst of API requests,
 * many in flight at each collection, teaches it that for short-lived per-request objects, which then
 * fill the old generation for as long as the process runs: after 18 s at full rate, 500 req/s of
 * recording starts and stops brought a mark-compact every 8 s, each a latency spike of 40-75 ms.
 * Without it, the old generation grew 4 MB in 30 s and no mark-compact came.
 */
setFlagsFromString('--no-allocation-site-pretenuring');

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const gateway = await startGateway(config);
  if (gateway.createdAccount) {
    const { authId, authToken } = gateway.createdAccount;
    process.stdout.write(
      [
        '',
        'No account existed, so one was created. Its token is shown only this once:',
        `  auth_id:    ${authId}`,
        `  auth_token: ${authToken}`,
        `It is kept in the database at ${gateway.database.location}.`,
        '',
      ].join('\n') + '\n',
    );
  }
  process.stdout.write(`MPC recording gateway on ${gateway.url} (Swagger UI at ${gateway.url}/docs)\n`);
  if (gateway.sdkProxyCa) {
    process.stdout.write(`Official SDKs: new plivo.Client(authId, authToken, { proxy: '${gateway.url}' }), run with NODE_EXTRA_CA_CERTS=${gateway.sdkProxyCa}\n`);
  }
  const stop = async (signal: string) => {
    gateway.logger.info({ signal }, 'shutting down');
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/** An error's message and those of its causes (a failed query's is the database's own), then where it came from. */
function describeFailure(error: unknown): string {
  const lines: string[] = [];
  let innermost = error;
  for (let cause = error; cause !== undefined; cause = cause instanceof Error ? cause.cause : undefined) {
    const text = cause instanceof Error ? cause.message : inspect(cause, { depth: 2, breakLength: Infinity });
    lines.push(lines.length === 0 ? text : `  because: ${text}`);
    innermost = cause;
  }
  if (innermost instanceof Error && innermost.stack) lines.push(innermost.stack.split('\n').slice(1).join('\n'));
  return lines.join('\n');
}

main().catch((error: unknown) => {
  // Not a fault to trace: the message says what to do.
  const text = error instanceof InUseByAnotherGateway ? error.message : describeFailure(error);
  process.stderr.write(`the gateway could not start: ${text}\n`);
  process.exit(1);
});
