import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/logger.js';
import type { RecorderService, RecordingFiles } from '../recorder/recorder.service.js';
import type { MediaPlane, ParticipantsChange, RecordingChange } from '../recordings/recording-observer.js';
import { MediaIngress, type StreamControl, type StreamRequest } from './media-ingress.js';

export type MediaPlaneStats = ReturnType<InProcessMediaPlane['stats']>;

/**
 * The live media plane in one process: the streams' ingress feeding the recorder. The gateway runs
 * it itself with MEDIA_SHARDS=0, and each media shard runs one for the MPCs placed on it.
 */
export class InProcessMediaPlane implements MediaPlane {
  /** Set by start. */
  private ingress!: MediaIngress;

  constructor(
    readonly recorder: RecorderService,
    private readonly logger: Logger,
  ) {}

  async start({ control, files }: { control: StreamControl; files: RecordingFiles }): Promise<void> {
    this.recorder.bindFiles(files);
    this.ingress = new MediaIngress(control, this.recorder, this.logger);
    this.recorder.start();
  }

  attach(http: Server): void {
    this.ingress.attach(http);
  }

  /** Takes a stream whose upgrade request was read elsewhere (a shard's, handed over by the gateway). */
  accept(request: StreamRequest, socket: Duplex, head: Buffer): void {
    this.ingress.accept(request, socket, head);
  }

  recordingsChanged(changes: readonly RecordingChange[]): void {
    this.recorder.recordingsChanged(changes);
  }

  participantsChanged(change: ParticipantsChange): void {
    this.recorder.participantsChanged(change);
    this.ingress.participantsChanged(change);
  }

  /** The recorder's live figures, and the counts of the streams that have ended. */
  stats() {
    return { ...this.recorder.stats(), streams: { ...this.ingress.streamTotals } };
  }

  resetTickLag(): void {
    this.recorder.resetTickLag();
  }

  /** Closes its streams, then finishes every file as far as it got. */
  async stop(): Promise<void> {
    await this.ingress.close();
    await this.recorder.stop();
  }
}
