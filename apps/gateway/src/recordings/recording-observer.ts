import type { Server } from 'node:http';
import type { StreamControl } from '../media-ingress/media-ingress.js';
import type { ParticipantRow, RecordingRow } from '../persistence/schema.js';
import type { RecordingFiles } from '../recorder/recorder.service.js';
import type { RecordingEventKind } from './recording-state.js';

export interface RecordingChange {
  recording: RecordingRow;
  event: RecordingEventKind;
  at: Date;
  /** For a start: the MPC's friendly name, which places it on a media shard. */
  mpcName?: string;
  /** For a participant recording's start: the participant's call, whose stream it records. */
  callUuid?: string;
  /** For a participant recording's start: the MPC's max_participants, the channels of one track per member. */
  maxParticipants?: number;
}

/**
 * Told of committed changes, after their transaction: the recorder follows them with audio.
 * Nothing here may throw back into the request; observers handle their own failures.
 */
export interface RecordingObserver {
  recordingsChanged(changes: readonly RecordingChange[]): void;
  participantsChanged(mpcUuid: string, present: readonly ParticipantRow[], ended: boolean): void;
}

export const NO_OBSERVER: RecordingObserver = {
  recordingsChanged: () => undefined,
  participantsChanged: () => undefined,
};

/** Changes made inside one transaction, published once it commits. */
export class ChangeLog {
  readonly recordings: RecordingChange[] = [];
  readonly participants = new Map<string, { present: ParticipantRow[]; ended: boolean }>();
  /** Callback events written to the outbox in this transaction. */
  callbacksWritten = 0;

  publish(observer: RecordingObserver): void {
    if (this.recordings.length > 0) observer.recordingsChanged(this.recordings);
    for (const [mpcUuid, { present, ended }] of this.participants) observer.participantsChanged(mpcUuid, present, ended);
  }
}

/** What the media plane needs of the gateway: the control plane for its streams, and where its files go. */
export interface MediaServices {
  control: StreamControl & { mpcNameOf(authId: string, mpcUuid: string): Promise<string | undefined> };
  files: RecordingFiles & { salvage(recordingId: string): Promise<void> };
}

/** The live media plane as the rest of the gateway sees it: the recorder in this process, or the media shards. */
export interface MediaPlane extends RecordingObserver {
  start(services: MediaServices): Promise<void>;
  /** Takes the streams' upgrade requests, once the server listens. */
  attach(http: Server): void;
  stats(): object | Promise<object>;
  resetTickLag(): void;
  /** Closes its streams and finishes every file as far as it got. */
  stop(): Promise<void>;
}
