import type { Socket } from 'node:net';
import type { Config } from '../config/config.js';
import type { StreamControl, StreamRequest } from '../media-ingress/media-ingress.js';
import type { MediaPlaneStats } from '../media-ingress/in-process-media-plane.js';
import type { RecordingFiles } from '../recorder/recorder.service.js';
import type { ParticipantsChange, RecordingChange } from '../recordings/recording-observer.js';

/** How long a shard whose gateway died takes, at most, to write out what its files have queued, and end. */
export const ORPHAN_PERSIST_TIMEOUT_MS = 2000;

/** What the gateway answers a media shard: the control plane its streams and files need. */
export type GatewaySide = StreamControl & Required<RecordingFiles>;

/** What a media shard does for the gateway: it owns the live mix of the MPCs placed on it. */
export interface ShardSide {
  start(settings: ShardSettings): Promise<{ pid: number }>;
  stream(socket: Socket, request: StreamRequest, head: Uint8Array): void;
  recordingsChanged(changes: readonly RecordingChange[]): void;
  participantsChanged(change: ParticipantsChange): void;
  stats(): Promise<ShardStats>;
  resetTickLag(): void;
  /** Closes its streams and finishes every file as far as it got. */
  stop(): Promise<void>;
}

export type ShardStats = MediaPlaneStats & { pid: number; rss: number };

export interface ShardSettings {
  index: number;
  config: Pick<Config, 'dataDir' | 'storage' | 'jitterMs' | 'encoderThreads' | 'logLevel'>;
}
