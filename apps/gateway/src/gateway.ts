import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AccountsService } from './accounts/accounts.service.js';
import { CallbackDispatcher } from './callbacks/callback-dispatcher.js';
import { CallsService } from './calls/calls.service.js';
import type { MediaPlane } from './recordings/recording-observer.js';
import { RecordingsService } from './recordings/recordings.service.js';
import { storeWaitingFiles } from './recordings/waiting-files.js';
import { configuredStorage } from './storage/configured-storage.js';
import type { RecordingStorage } from './storage/recording-storage.js';
import { AuthGuard } from './accounts/auth.guard.js';
import type { BasicCredentials } from './accounts/credentials.js';
import { RateLimiter } from './accounts/rate-limiter.js';
import { ApiIdInterceptor } from './common/api-id.interceptor.js';
import { answerClientErrors, bodyParsers, credentialsBeforeBodies, requestLog, startupGate } from './common/http-pipeline.js';
import { ExpressServerAdapter } from './common/express-server.js';
import { createLogger, type Logger } from './common/logger.js';
import { PlivoExceptionFilter } from './common/plivo-exception.filter.js';
import { watchEventLoop } from './common/stall-watchdog.js';
import { ensureWritableDir } from './common/writable-dir.js';
import { PublicUrls } from './common/public-urls.js';
import { assignApiId } from './common/request-context.js';
import type { Config } from './config/config.js';
import { mountDocs } from './docs/docs.js';
import { GatewayModule } from './gateway.module.js';
import { MEDIA_PLANE } from './gateway.tokens.js';
import { ORPHAN_PERSIST_TIMEOUT_MS } from './media-shards/shard-protocol.js';
import { BackgroundFailures } from './persistence/background-failures.js';
import { holdDataDir, type DataDirHold } from './persistence/data-dir-lock.js';
import { openDatabase, type OpenDatabase } from './persistence/database.js';
import { proxyCertificate } from './sdk-proxy/proxy-certificate.js';
import { attachSdkProxy, refuseTunnels } from './sdk-proxy/sdk-proxy.js';
import type { MaintenanceDone } from './persistence/maintenance.js';

export interface RunningGateway {
  url: string;
  database: OpenDatabase;
  /** The account created on this start because none existed; its token is shown only now. */
  createdAccount?: BasicCredentials;
  /** The CA that official SDKs pointed here through their `proxy` option must trust (SDK_PROXY). */
  sdkProxyCa?: string;
  logger: Logger;
  /** The HTTP routes the server has, for checking them against the contract. */
  routes(): { method: string; path: string }[];
  close(): Promise<void>;
}

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

function nestLogger(logger: Logger): LoggerService {
  return {
    log: (message) => logger.debug({ nest: true }, String(message)),
    error: (message, trace) => logger.error({ nest: true, trace }, String(message)),
    warn: (message) => logger.warn({ nest: true }, String(message)),
  };
}

/**
 * Adapters a caller may supply instead of the configured ones (tests use a storage that fails).
 * A storage handed in lives in this process, so the media plane does too: no media shards.
 */
export interface GatewayOverrides {
  logger?: Logger;
  storage?: RecordingStorage;
}

/** Beyond the time a dead run's media shards take to write out their files: for them to end. */
const ORPHAN_EXIT_MARGIN_MS = 500;

/** How often the embedded database looks for tables to vacuum or analyse: autovacuum's naptime. */
const DATABASE_MAINTENANCE_MS = 60_000;
/** A maintenance statement that holds the event loop this long makes a warning (tens of ms is usual). */
const SLOW_MAINTENANCE_STATEMENT_MS = 100;

/** One line per maintenance pass: a warning when a statement held the event loop long, else at the level of what it did. */
function logMaintenance(logger: Logger, done: MaintenanceDone, ms: number): void {
  const fields = { ...done, ms };
  if (done.longestStatementMs >= SLOW_MAINTENANCE_STATEMENT_MS) {
    logger.warn(
      fields,
      `database maintenance held the event loop for ${done.longestStatementMs} ms in one statement, and API requests waited: ` +
        'its cost grows with the tables; a PostgreSQL server (DATABASE_URL) maintains itself away from the gateway',
    );
  } else if (done.frozen.length > 0) {
    // Freezing comes once per 200 million transactions, and holds the event loop while it scans.
    logger.info(fields, 'database maintained: old transaction ids frozen');
  } else {
    logger.debug(fields, 'database maintained');
  }
}

/**
 * Runs `pass` every `intervalMs`, one at a time: a tick while one is under way (a slow database)
 * is skipped rather than piled up. `stop` ends the ticks and waits for the pass under way.
 */
function onePassAtATime(intervalMs: number, pass: () => Promise<void>): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= pass().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Holds the data directory, opens the database, applies migrations and accounts, and serves the
 * API on the configured port.
 */
export async function startGateway(config: Config, overrides: GatewayOverrides = {}): Promise<RunningGateway> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  ensureWritableDir(config.dataDir, 'DATA_DIR');
  const hold = await holdDataDir(config.dataDir);
  try {
    return await serve(config, overrides, logger, hold);
  } catch (error) {
    await hold.release();
    throw error;
  }
}

async function serve(config: Config, overrides: GatewayOverrides, logger: Logger, hold: DataDirHold): Promise<RunningGateway> {
  // A run that died leaves its media shards writing out their files a moment longer; the recovery
  // below salvages those files, so it waits until they are done.
  const orphansDoneAt = hold.tookOver ? performance.now() + ORPHAN_PERSIST_TIMEOUT_MS + ORPHAN_EXIT_MARGIN_MS : 0;
  if (!overrides.storage) ensureWritableDir(join(config.dataDir, config.storage.kind === 's3' ? 'spool' : 'recordings'), 'The recordings directory');
  const database = await openDatabase({ ...config, logger });
  // Once the database is open: its recovery after a crash may legitimately hold the loop a while.
  const watchdog = watchEventLoop();
  const urls = new PublicUrls();
  const storage = overrides.storage ?? configuredStorage(config, logger);
  const media = {
    shards: overrides.storage ? 0 : config.mediaShards,
    settings: { dataDir: config.dataDir, storage: config.storage, jitterMs: config.jitterMs, encoderThreads: config.encoderThreads, logLevel: config.logLevel },
  };
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.create({ database, urls, storage, logger, media, callbacks: config.callbacks, downloadIdleMs: config.downloadIdleMs }), new ExpressServerAdapter(), {
    bodyParser: false,
    logger: nestLogger(logger),
  });
  app.disable('x-powered-by');
  answerClientErrors(app.getHttpServer(), logger);
  const gate = startupGate(app.getHttpServer());
  const accounts = app.get(AccountsService);
  app.use(assignApiId, requestLog(logger), gate.hold, credentialsBeforeBodies((credentials) => accounts.authenticate(credentials)), ...bodyParsers(config.bodyLimitBytes));

  const createdAccount = await accounts.bootstrap(config.accounts);
  app.useGlobalGuards(new AuthGuard(accounts, new RateLimiter(config.rateLimit.requests, config.rateLimit.windowMs), config.recordingMediaAuth));
  app.useGlobalInterceptors(new ApiIdInterceptor());
  app.useGlobalFilters(new PlivoExceptionFilter(logger));
  mountDocs(app);

  const calls = app.get(CallsService);
  const recordings = app.get(RecordingsService);
  const plane = app.get<MediaPlane>(MEDIA_PLANE);
  await plane.start({
    control: {
      findAccount: (authId) => accounts.find(authId),
      authenticate: (credentials) => accounts.authenticate(credentials),
      joinStream: (account, ref, callUuid, params, grantedMpcUuid) => calls.joinStream(account, ref, callUuid, params, grantedMpcUuid),
      hangup: (mpcUuid, memberId, endedAtMs) => calls.hangup(mpcUuid, memberId, endedAtMs === undefined ? undefined : new Date(endedAtMs)),
      mpcNameOf: (authId, mpcUuid) => calls.mpcNameOf(authId, mpcUuid),
    },
    files: recordings,
  });

  const sdkProxy = config.sdkProxy ? await proxyCertificate(join(config.dataDir, 'tls')) : undefined;
  await app.listen(config.port, config.host);
  // Before anything else can run: the first requests' answers carry absolute URLs already.
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  urls.base = config.publicUrl ?? url;
  hold.describe(`pid ${process.pid}, serving ${url}`);
  if (sdkProxy) attachSdkProxy(app.getHttpServer(), sdkProxy, logger);
  else refuseTunnels(app.getHttpServer());
  const dispatcher = app.get(CallbackDispatcher);
  // Once URLs are known: recordings a crash left unfinished are finished, participants whose
  // streams it cut hang up, and delivery starts, pending events from before a restart included.
  const orphansWaitMs = Math.round(orphansDoneAt - performance.now());
  if (orphansWaitMs > 0) {
    logger.warn({ wait_ms: orphansWaitMs }, 'the last run did not stop but died: waiting for its media shards to write out their files before finishing its recordings');
    await sleep(orphansWaitMs);
  }
  const recovered = await recordings.recoverAfterRestart();
  if (recovered.completed + recovered.failed + recovered.waiting > 0) {
    logger.warn({ completed: recovered.completed, failed: recovered.failed, waiting_for_storage: recovered.waiting }, 'recordings left unfinished by the last run were finished');
  }
  if (recovered.carriedOn > 0) logger.info({ recordings: recovered.carriedOn }, 'recordings whose calls have had no stream carry on as they stood');
  if (recovered.left.length > 0) logger.error({ recordings: recovered.left }, 'recordings left unfinished by the last run could not be finished now; the next start tries again');
  const hungUp = await calls.hangUpStreamsCutOff();
  if (hungUp > 0) logger.warn({ participants: hungUp }, 'participants whose media streams the last run lost have hung up');
  // Requests and streams only now: one arriving earlier could act on a recording about to be
  // finished, or take over a participant about to be hung up.
  plane.attach(app.getHttpServer());
  gate.open();
  dispatcher.start();
  const waitingFiles = storeWaitingFiles(recordings, logger);
  const sweepFailures = new BackgroundFailures(logger, 'ending overdue MPCs');
  const durationSweep = onePassAtATime(1000, () =>
    calls.endOverdue().then(
      () => sweepFailures.succeeded(),
      (error: unknown) => sweepFailures.failed(error),
    ),
  );
  // A pass takes up to a second, its heavy statements apart.
  const maintenance = onePassAtATime(DATABASE_MAINTENANCE_MS, () => {
    const started = performance.now();
    return database
      .maintain()
      .then((done) => logMaintenance(logger, done, Math.round(performance.now() - started)))
      .catch((error: unknown) => logger.error({ err: error }, 'database maintenance failed'));
  });
  logger.info({ url, database: database.location, public_url: urls.base, sdk_proxy_ca: sdkProxy?.caPath }, 'gateway listening');

  return {
    url,
    database,
    createdAccount,
    sdkProxyCa: sdkProxy?.caPath,
    logger,
    routes: () =>
      (app.getHttpAdapter().getInstance().router.stack as ExpressLayer[]).flatMap((layer) =>
        layer.route ? Object.keys(layer.route.methods).map((method) => ({ method, path: layer.route!.path })) : [],
      ),
    close: async () => {
      const swept = durationSweep.stop();
      const maintained = maintenance.stop();
      // The MPCs the sweep ends are told to the media plane, which must still be there.
      await swept;
      await plane.stop();
      // What waits for the bucket is stored by the restart.
      storage.abandonRequests?.();
      await waitingFiles.stop();
      await dispatcher.stop();
      await app.close();
      await maintained;
      await database.close();
      // Last: the files a stop finishes are written to the database too, which is where it can get stuck.
      await watchdog.stop();
      await hold.release();
    },
  };
}
