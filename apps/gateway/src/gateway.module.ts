import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsRepository } from './accounts/accounts.repository.js';
import { AccountsService } from './accounts/accounts.service.js';
import { CallsController } from './calls/calls.controller.js';
import { CallsRepository } from './calls/calls.repository.js';
import { CallsService } from './calls/calls.service.js';
import { PublicUrls } from './common/public-urls.js';
import { checkHost, type PrivateAccess } from './callbacks/address-guard.js';
import { CallbackDispatcher } from './callbacks/callback-dispatcher.js';
import { OutboxRepository } from './callbacks/outbox.repository.js';
import { ApiError } from './common/error-catalog.js';
import type { Logger } from './common/logger.js';
import { DATABASE, MEDIA_PLANE, DOWNLOAD_IDLE_MS } from './gateway.tokens.js';
import { MediaShards } from './media-shards/media-shards.js';
import type { ShardSettings } from './media-shards/shard-protocol.js';
import { createRecorder } from './recorder/create-recorder.js';
import { InProcessMediaPlane } from './media-ingress/in-process-media-plane.js';
import type { RecordingStorage } from './storage/recording-storage.js';
import { HealthController } from './health/health.controller.js';
import type { OpenDatabase } from './persistence/database.js';
import { RecordingControlController } from './recordings/recording-control.controller.js';
import { RecordingsController } from './recordings/recordings.controller.js';
import { RecordingsRepository } from './recordings/recordings.repository.js';
import { RecordingsService, type CallbackOutbox } from './recordings/recordings.service.js';

export interface GatewayParts {
  database: OpenDatabase;
  urls: PublicUrls;
  storage: RecordingStorage;
  logger: Logger;
  /** The media plane's settings; with shards, the recorder runs in each of them instead of here. */
  media: { shards: number; settings: ShardSettings['config'] };
  callbacks: { access: PrivateAccess; concurrency: number; hostConcurrency: number };
  downloadIdleMs: number;
}

/** Wires the gateway by hand from its adapters, so nothing depends on reflected constructor types. */
@Module({})
export class GatewayModule {
  static create({ database, urls, storage, logger, media, callbacks, downloadIdleMs }: GatewayParts): DynamicModule {
    const callsRepository = new CallsRepository();
    const accounts = new AccountsService(new AccountsRepository(database.db));
    const outbox = new OutboxRepository();
    const dispatcher = new CallbackDispatcher(database.db, outbox, accounts, logger, { pollMs: 250, ...callbacks });
    const plane =
      media.shards > 0
        ? new MediaShards({ count: media.shards, settings: media.settings, logger })
        : new InProcessMediaPlane(createRecorder(storage, logger, media.settings), logger);
    const callbackOutbox: CallbackOutbox = {
      outbox,
      wake: () => dispatcher.wake(),
      check: async (url) => {
        try {
          await checkHost(new URL(url).hostname, callbacks.access);
        } catch (error) {
          throw new ApiError('invalid_parameter', `invalid recording_callback_url: ${(error as Error).message}`);
        }
      },
    };
    const recordings = new RecordingsService(database.db, new RecordingsRepository(database.concurrent), callsRepository, urls, storage, callbackOutbox, plane);
    const calls = new CallsService(database.db, callsRepository, recordings, urls);
    return {
      module: GatewayModule,
      controllers: [CallsController, RecordingControlController, RecordingsController, HealthController],
      providers: [
        { provide: DATABASE, useValue: database },
        { provide: PublicUrls, useValue: urls },
        { provide: AccountsService, useValue: accounts },
        { provide: CallbackDispatcher, useValue: dispatcher },
        { provide: RecordingsService, useValue: recordings },
        { provide: CallsService, useValue: calls },
        { provide: MEDIA_PLANE, useValue: plane },
        { provide: DOWNLOAD_IDLE_MS, useValue: downloadIdleMs },
      ],
      exports: [AccountsService],
    };
  }
}
