import type { Recording } from '@mpc/contracts';
import { plivoMs, plivoTimestampMicros } from '../common/plivo-time.js';
import type { PublicUrls } from '../common/public-urls.js';
import { DAY_MS } from '../common/time-range.js';
import type { RecordingView } from './recordings.repository.js';
import { recordedMs } from './recording-state.js';

export function presentRecording({ recording, mpc, participant }: RecordingView, urls: PublicUrls, now: Date): Recording {
  const durationMs = recordedMs(recording, now);
  return {
    add_time: plivoTimestampMicros(recording.addedAt),
    call_uuid: participant?.callUuid ?? null,
    conference_name: mpc.friendlyName,
    conference_uuid: mpc.mpcUuid,
    failure_reason: recording.failureReason,
    from_number: participant?.fromNumber ?? null,
    member_id: recording.memberId === null ? null : String(recording.memberId),
    mpc_name: mpc.friendlyName,
    mpc_uuid: mpc.mpcUuid,
    recording_duration_ms: plivoMs(durationMs),
    recording_end_ms: recording.endedAt ? plivoMs(recording.endedAt.getTime()) : null,
    recording_format: recording.fileFormat,
    recording_id: recording.recordingId,
    recording_start_ms: plivoMs(recording.startedAt.getTime()),
    recording_status: recording.status,
    recording_type: recording.scope,
    recording_url: urls.recordingFileUrl(recording.authId, recording.recordingId, recording.fileFormat),
    record_track_type: recording.trackType,
    resource_uri: urls.recordingPath(recording.authId, recording.recordingId),
    sample_rate: recording.sampleRate,
    rounded_recording_duration: Math.ceil(durationMs / 60_000) * 60,
    recording_storage_duration: Math.floor((now.getTime() - recording.addedAt.getTime()) / DAY_MS),
    recording_storage_rate: null,
    monthly_recording_storage_amount: null,
    to_number: participant?.toNumber ?? null,
  };
}
