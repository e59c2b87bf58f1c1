import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Controller, Inject, Req, Res } from '@nestjs/common';
import type { OperationInput } from '@mpc/contracts';
import type { Request, Response } from 'express';
import { byteRange } from '../common/byte-range.js';
import { Caller } from '../common/caller.js';
import { ContractRoute, Input } from '../common/contract-route.js';
import { ApiError } from '../common/error-catalog.js';
import { pageLinks } from '../common/paging.js';
import { DOWNLOAD_IDLE_MS } from '../gateway.tokens.js';
import type { AccountRow } from '../persistence/schema.js';
import { RecordingsService } from './recordings.service.js';

/** Whether an `If-None-Match` list names `etag` (weakly, as that header compares) or is `*`. */
function matchesAny(header: string | undefined, etag: string): boolean {
  return header !== undefined && header.split(',').some((tag) => ['*', etag].includes(tag.trim().replace(/^W\//, '')));
}

/** The Recording resource. The file route comes first: `{id}.mp3` would otherwise read as an id. */
@Controller()
export class RecordingsController {
  constructor(
    @Inject(RecordingsService) private readonly recordings: RecordingsService,
    @Inject(DOWNLOAD_IDLE_MS) private readonly downloadIdleMs: number,
  ) {}

  @ContractRoute('getRecordingFile')
  async getRecordingFile(@Input() { params }: OperationInput<'getRecordingFile'>, @Req() request: Request, @Res() response: Response) {
    const file = await this.recordings.file(params.auth_id, params.recording_id, params.format);
    // A finished file never changes: its id and size tell it apart from any other.
    const etag = `"${params.recording_id}-${file.size}"`;
    if (matchesAny(request.headers['if-none-match'], etag)) {
      response.status(304).setHeader('ETag', etag).end();
      return;
    }
    // A range of another version of the file (or one as of a date, which no Last-Modified backs) is no range of this one: all of it comes.
    const ifRange = request.get('if-range');
    const range = ifRange === undefined || ifRange.trim() === etag ? byteRange(request.headers.range, file.size) : undefined;
    if (range === 'unsatisfiable') {
      response.status(416).setHeader('Content-Range', `bytes */${file.size}`);
      throw new ApiError('range_not_satisfiable', `the file has ${file.size} bytes`);
    }
    // Storage that fails before the first byte is answered for; once bytes flow, only the cut connection can say so.
    const source = file.read(range ?? undefined);
    await once(source, 'readable').catch((error: unknown) => {
      throw new ApiError('storage_unavailable', undefined, { cause: error });
    });
    response.setHeader('ETag', etag);
    response.setHeader('Content-Type', params.format === 'mp3' ? 'audio/mpeg' : 'audio/wav');
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('Content-Disposition', `inline; filename="${params.recording_id}.${params.format}"`);
    if (range) {
      response.status(206);
      response.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
    } else {
      response.status(200);
    }
    response.setHeader('Content-Length', String(range ? range.end - range.start + 1 : file.size));
    // A client that takes nothing for that long is cut off: a download holds its file open (and,
    // once the recording is deleted, its disk space) for as long as it lasts.
    response.setTimeout(this.downloadIdleMs, () => response.destroy());
    await pipeline(source, response).catch((error: NodeJS.ErrnoException) => {
      // The client went away before the end: nothing to answer, nothing gone wrong here.
      if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
    });
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

  @ContractRoute('listRecordingCallbacks')
  async listRecordingCallbacks(@Caller() account: AccountRow, @Input() { params }: OperationInput<'listRecordingCallbacks'>) {
    return { objects: await this.recordings.deliveries(account, params.recording_id) };
  }

  @ContractRoute('deleteRecording')
  async deleteRecording(@Caller() account: AccountRow, @Input() { params }: OperationInput<'deleteRecording'>) {
    await this.recordings.delete(account, params.recording_id);
  }
}
