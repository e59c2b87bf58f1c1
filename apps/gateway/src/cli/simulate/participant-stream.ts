import { encodePcm16le } from '@mpc/media';
import WebSocket from 'ws';
import { FRAME_MS, type AudioSource } from './audio-source.js';

const CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * One participant's media stream in the plain framing: a JSON start message carrying the
 * call_uuid, then a binary frame of 16-bit little-endian PCM every 20 ms, paced by the clock
 * (frames a late timer missed are sent at once, so the audio never falls behind real time).
 */
export class ParticipantStream {
  private readonly ws: WebSocket;
  private timer: NodeJS.Timeout | undefined;
  private frames = 0;
  private hangingUp = false;
  private readonly closed: Promise<{ code: number; reason: string }>;

  /** Called when the gateway closes the stream before we hang up. */
  onUnexpectedClose: (code: number, reason: string) => void = () => undefined;

  constructor(
    private readonly url: string,
    private readonly callUuid: string,
    private readonly source: AudioSource,
  ) {
    this.ws = new WebSocket(url, { handshakeTimeout: CONNECT_TIMEOUT_MS });
    this.ws.on('error', () => undefined); // surfaced by connect() or by the close
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        clearTimeout(this.timer);
        if (!this.hangingUp) this.onUnexpectedClose(code, reason.toString());
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Frames sent so far. */
  get framesSent(): number {
    return this.frames;
  }

  async connect(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return;
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', (error) => reject(new Error(`cannot open the media stream ${redact(this.url)}: ${error.message}`)));
      this.ws.once('close', (code, reason) => reject(new Error(`the media stream closed while opening: ${code} ${reason.toString()}`)));
    });
  }

  /** Sends the start message and begins streaming in real time. */
  start(): void {
    this.ws.send(JSON.stringify({ event: 'start', call_uuid: this.callUuid, sample_rate: this.source.sampleRate }));
    const startedAt = performance.now();
    const tick = () => {
      const due = Math.floor((performance.now() - startedAt) / FRAME_MS) + 1;
      while (this.frames < due && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(encodePcm16le(this.source.frame(this.frames)));
        this.frames += 1;
      }
      if (this.ws.readyState === WebSocket.OPEN) this.timer = setTimeout(tick, 5);
    };
    tick();
  }

  /** Stops the audio, says goodbye with a stop message and closes; the participant leaves the call. */
  async hangup(): Promise<void> {
    this.hangingUp = true;
    clearTimeout(this.timer);
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ event: 'stop' }));
      this.ws.close(1000, 'hangup');
    } else if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    }
    const timeout = setTimeout(() => this.ws.terminate(), CLOSE_TIMEOUT_MS);
    await this.closed;
    clearTimeout(timeout);
  }
}

/** The stream URL carries a token in its path: never print it whole. */
export function redact(url: string): string {
  return url.replace(/\/Stream\/[^/]+/, '/Stream/…');
}
