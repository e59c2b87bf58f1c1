import { Controller, Inject } from '@nestjs/common';
import type { OperationInput } from '@mpc/contracts';
import { Caller } from '../common/caller.js';
import { ContractRoute, Input } from '../common/contract-route.js';
import type { AccountRow } from '../persistence/schema.js';
import { RecordingsService } from './recordings.service.js';

/** Start, stop, pause and resume, for the whole MPC and for one participant. */
@Controller()
export class RecordingControlController {
  constructor(@Inject(RecordingsService) private readonly recordings: RecordingsService) {}

  @ContractRoute('startMpcRecording')
  startMpcRecording(@Caller() account: AccountRow, @Input() { params, body }: OperationInput<'startMpcRecording'>) {
    return this.recordings.startMpcRecording(account, params.mpc_id, {
      fileFormat: body.file_format,
      callbackUrl: body.recording_callback_url,
      callbackMethod: body.recording_callback_method,
    });
  }

  @ContractRoute('stopMpcRecording')
  async stopMpcRecording(@Caller() account: AccountRow, @Input() { params }: OperationInput<'stopMpcRecording'>) {
    await this.recordings.commandMpcRecording(account, params.mpc_id, 'stop');
  }

  @ContractRoute('pauseMpcRecording')
  async pauseMpcRecording(@Caller() account: AccountRow, @Input() { params }: OperationInput<'pauseMpcRecording'>) {
    await this.recordings.commandMpcRecording(account, params.mpc_id, 'pause');
  }

  @ContractRoute('resumeMpcRecording')
  async resumeMpcRecording(@Caller() account: AccountRow, @Input() { params }: OperationInput<'resumeMpcRecording'>) {
    await this.recordings.commandMpcRecording(account, params.mpc_id, 'resume');
  }

  @ContractRoute('startParticipantRecording')
  startParticipantRecording(@Caller() account: AccountRow, @Input() { params, body }: OperationInput<'startParticipantRecording'>) {
    return this.recordings.startParticipantRecording(account, params.mpc_id, params.member_id, {
      fileFormat: body.file_format,
      callbackUrl: body.recording_callback_url,
      callbackMethod: body.recording_callback_method,
      trackType: body.record_track_type,
    });
  }

  @ContractRoute('stopParticipantRecording')
  async stopParticipantRecording(@Caller() account: AccountRow, @Input() { params, body }: OperationInput<'stopParticipantRecording'>) {
    await this.recordings.commandParticipantRecording(account, params.mpc_id, params.member_id, body.record_track_type, 'stop');
  }

  @ContractRoute('pauseParticipantRecording')
  async pauseParticipantRecording(@Caller() account: AccountRow, @Input() { params, body }: OperationInput<'pauseParticipantRecording'>) {
    await this.recordings.commandParticipantRecording(account, params.mpc_id, params.member_id, body.record_track_type, 'pause');
  }

  @ContractRoute('resumeParticipantRecording')
  async resumeParticipantRecording(@Caller() account: AccountRow, @Input() { params, body }: OperationInput<'resumeParticipantRecording'>) {
    await this.recordings.commandParticipantRecording(account, params.mpc_id, params.member_id, body.record_track_type, 'resume');
  }
}
