import { plivoTimestamp } from '../common/plivo-time.js';
import type { PublicUrls } from '../common/public-urls.js';
import type { RecordingRow } from '../persistence/schema.js';
import type { RecordingEventKind } from '../recordings/recording-state.js';

export interface CallbackFacts {
  recording: RecordingRow;
  mpc: { friendlyName: string; mpcUuid: string };
  event: RecordingEventKind;
  at: Date;
  sequenceNumber: number;
  recordedMs: number;
}

/** The parameters of a recording callback: the seed's twelve, all strings, plus MemberID for participant events. */
export function recordingCallbackParams({ recording, mpc, event, at, sequenceNumber, recordedMs }: CallbackFacts, urls: PublicUrls): Record<string, string> {
  const participant = recording.scope === 'participant';
  return {
    EventName: `${participant ? 'ParticipantRecording' : 'MPCRecording'}${event}`,
    EventTimestamp: plivoTimestamp(at),
    MPCName: mpc.friendlyName,
    MPCUUID: mpc.mpcUuid,
    ...(participant && { MemberID: String(recording.memberId) }),
    RecordingDuration: String(Math.round(recordedMs / 1000)),
    RecordingEndTime: recording.endedAt ? plivoTimestamp(recording.endedAt) : '',
    RecordingFormat: recording.fileFormat,
    RecordingResourceURL: urls.recordingResourceUrl(recording.authId, recording.recordingId),
    RecordingStartTime: plivoTimestamp(recording.startedAt),
    RecordingURL: urls.recordingFileUrl(recording.authId, recording.recordingId, recording.fileFormat),
    RecordingUUID: recording.recordingId,
    SequenceNumber: String(sequenceNumber),
  };
}
