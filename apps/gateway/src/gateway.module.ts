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
import { DATABASE } from './gateway.tokens.js';
import { inlineEncoders } from './recorder/audio-encoder.js';
import { EncoderThreads } from './recorder/encoder-threads.js';
import { RecorderService } from './recorder/recorder.service.js';
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
  jitterMs: number;
  encoderThreads: number;
  callbacks: { access: PrivateAccess; concurrency: number };
}

/** Wires the gateway by hand from its adapters, so nothing depends on reflected constructor types. */
@Module({})
export class GatewayModule {
  static create({ database, urls, storage, logger, jitterMs, encoderThreads, callbacks }: GatewayParts): DynamicModule {
    const callsRepository = new CallsRepository();
    const accounts = new AccountsService(new AccountsRepository(database.db));
    const outbox = new OutboxRepository();
    const dispatcher = new CallbackDispatcher(database.db, outbox, accounts, logger, { pollMs: 250, ...callbacks });
    const encoders = encoderThreads > 0 ? new EncoderThreads(encoderThreads, logger) : inlineEncoders;
    const recorder = new RecorderService(storage, encoders, logger, { jitterMs, tickMs: 40 });
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
    const recordings = new RecordingsService(database.db, new RecordingsRepository(), callsRepository, urls, storage, callbackOutbox, recorder);
    recorder.bindFiles(recordings);
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
        { provide: RecorderService, useValue: recorder },
      ],
      exports: [AccountsService],
    };
  }
}
