import type { Server } from 'node:http';
import type { MediaPlaneStats } from '../media-ingress/in-process-media-plane.js';
import type { StreamControl } from '../media-ingress/media-ingress.js';
import type { MpcRow, ParticipantRow, RecordingRow } from '../persistence/schema.js';
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
  /**
   * For a start: the recording is carried on from `at`, before the engine that makes its file was
   * made (after a restart, or on the successor of a media shard that died, its call having had no
   * stream yet). Its file still begins at `at`, with the silence since.
   */
  carriedOn?: boolean;
}

/** Who is in an MPC after a committed change; the MPC's name places it on a media shard. */
export interface ParticipantsChange {
  mpcUuid: string;
  authId: string;
  mpcName: string;
  present: readonly ParticipantRow[];
  ended: boolean;
}

/**
 * Told of committed changes, after their transaction: the recorder follows them with audio.
 * Nothing here may throw back into the request; observers handle their own failures.
 */
export interface RecordingObserver {
  recordingsChanged(changes: readonly RecordingChange[]): void;
  participantsChanged(change: ParticipantsChange): void;
}

export const NO_OBSERVER: RecordingObserver = {
  recordingsChanged: () => undefined,
  participantsChanged: () => undefined,
};

/** Changes made inside one transaction, published once it commits. */
export class ChangeLog {
  readonly recordings: RecordingChange[] = [];
  /** The last change of each MPC's participants, by MPC uuid. */
  readonly participants = new Map<string, ParticipantsChange>();
  /** Callback events written to the outbox in this transaction. */
  callbacksWritten = 0;

  noteParticipants(mpc: Pick<MpcRow, 'mpcUuid' | 'authId' | 'friendlyName'>, present: readonly ParticipantRow[], ended: boolean): void {
    this.participants.set(mpc.mpcUuid, { mpcUuid: mpc.mpcUuid, authId: mpc.authId, mpcName: mpc.friendlyName, present, ended });
  }

  publish(observer: RecordingObserver): void {
    if (this.recordings.length > 0) observer.recordingsChanged(this.recordings);
    for (const change of this.participants.values()) observer.participantsChanged(change);
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
  stats(): MediaPlaneStats | Promise<MediaPlaneStats>;
  resetTickLag(): void;
  /** Closes its streams and finishes every file as far as it got. */
  stop(): Promise<void>;
}
