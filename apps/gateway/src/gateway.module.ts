import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsRepository } from './accounts/accounts.repository.js';
import { AccountsService } from './accounts/accounts.service.js';
import { CallsController } from './calls/calls.controller.js';
import { CallsRepository } from './calls/calls.repository.js';
import { CallsService } from './calls/calls.service.js';
import { PublicUrls } from './common/public-urls.js';
import type { Logger } from './common/logger.js';
import { DATABASE, RECORDING_STORAGE } from './gateway.tokens.js';
import { RecorderService } from './recorder/recorder.service.js';
import type { RecordingStorage } from './storage/recording-storage.js';
import { HealthController } from './health/health.controller.js';
import type { OpenDatabase } from './persistence/database.js';
import { RecordingControlController } from './recordings/recording-control.controller.js';
import { RecordingsController } from './recordings/recordings.controller.js';
import { RecordingsRepository } from './recordings/recordings.repository.js';
import { RecordingsService } from './recordings/recordings.service.js';

export interface GatewayParts {
  database: OpenDatabase;
  urls: PublicUrls;
  storage: RecordingStorage;
  logger: Logger;
  jitterMs: number;
}

/** Wires the gateway by hand from its adapters, so nothing depends on reflected constructor types. */
@Module({})
export class GatewayModule {
  static create({ database, urls, storage, logger, jitterMs }: GatewayParts): DynamicModule {
    const callsRepository = new CallsRepository();
    const recorder = new RecorderService(storage, logger, { jitterMs, tickMs: 20 });
    const recordings = new RecordingsService(database.db, new RecordingsRepository(), callsRepository, urls, storage, recorder);
    recorder.bindFiles(recordings);
    const calls = new CallsService(database.db, callsRepository, recordings, urls);
    return {
      module: GatewayModule,
      controllers: [CallsController, RecordingControlController, RecordingsController, HealthController],
      providers: [
        { provide: DATABASE, useValue: database },
        { provide: PublicUrls, useValue: urls },
        { provide: AccountsService, useValue: new AccountsService(new AccountsRepository(database.db)) },
        { provide: RecordingsService, useValue: recordings },
        { provide: CallsService, useValue: calls },
        { provide: RecorderService, useValue: recorder },
        { provide: RECORDING_STORAGE, useValue: storage },
      ],
      exports: [AccountsService],
    };
  }
}
