import { Controller, Inject, Req } from '@nestjs/common';
import type { OperationInput } from '@mpc/contracts';
import type { Request } from 'express';
import { Caller } from '../common/caller.js';
import { ContractRoute, Input } from '../common/contract-route.js';
import { ApiError } from '../common/error-catalog.js';
import { pageLinks } from '../common/paging.js';
import type { AccountRow } from '../persistence/schema.js';
import { RecordingsService } from './recordings.service.js';

/** The Recording resource. The file route comes first: `{id}.mp3` would otherwise read as an id. */
@Controller()
export class RecordingsController {
  constructor(@Inject(RecordingsService) private readonly recordings: RecordingsService) {}

  @ContractRoute('getRecordingFile')
  getRecordingFile(@Input() { params }: OperationInput<'getRecordingFile'>): never {
    // Audio arrives with the media plane; until a recording has a stored file there is nothing to serve.
    throw new ApiError('not_found', `recording ${params.recording_id} has no ${params.format} file`);
  }

  @ContractRoute('getRecording')
  getRecording(@Caller() account: AccountRow, @Input() { params }: OperationInput<'getRecording'>) {
    return this.recordings.get(account, params.recording_id);
  }

  @ContractRoute('listRecordings')
  async listRecordings(@Caller() account: AccountRow, @Input() { query }: OperationInput<'listRecordings'>, @Req() request: Request) {
    const { rows, total } = await this.recordings.list(account, query);
    const page = { limit: query.limit, offset: query.offset, total };
    return { meta: { limit: query.limit, offset: query.offset, total_count: total, ...pageLinks(request.path, request.query, page) }, objects: rows };
  }

  @ContractRoute('deleteRecording')
  async deleteRecording(@Caller() account: AccountRow, @Input() { params }: OperationInput<'deleteRecording'>) {
    await this.recordings.delete(account, params.recording_id);
  }
}
