import { encodeMulaw, encodePcm16le, generateTone } from '@mpc/media';
import WebSocket from 'ws';

export type Framing = 'plivo-mulaw' | 'plivo-l16' | 'twilio' | 'binary';

export interface StreamOptions {
  url: string;
  framing: Framing;
  frequency: number;
  callId?: string;
  headers?: Record<string, string>;
  params?: Record<string, string>;
  /** 8000 or 16000 where the framing allows it. */
  sampleRate?: 8000 | 16000;
  /** How long after the start message the audio begins; at once by default. */
  audioAfterMs?: number;
}

/**
 * A participant's media stream, as a telephony platform or media server sends it: a start
 * message, then a 20 ms frame of a steady tone every 20 ms, paced by the clock.
 */
export class ToneStream {
  readonly ws: WebSocket;
  private frames = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** When the start message was sent: the stream joins the mix after it, its first frame in place then. */
  startSentAt = 0;
  /** Per frame, how much later than its time it was sent (ms), as a stalled machine delays the sender. */
  readonly lateMs: number[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  private readonly rate: 8000 | 16000;
  private readonly epochOrigin = Date.now();

  constructor(private readonly options: StreamOptions) {
    this.rate = options.framing === 'plivo-mulaw' || options.framing === 'twilio' ? 8000 : (options.sampleRate ?? 16000);
    this.ws = new WebSocket(options.url, options.framing.startsWith('plivo') ? ['audio.plivo.com'] : [], { headers: options.headers });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Sends the start message and begins streaming in real time. */
  async start(): Promise<void> {
    await this.opened;
    this.ws.send(JSON.stringify(this.startMessage()));
    this.startSentAt = performance.now();
    this.startedAt = this.startSentAt + (this.options.audioAfterMs ?? 0);
    this.tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Sends nothing for `ms`, then goes on from where it was, as a sender that stalls does. */
  async pause(ms: number): Promise<void> {
    this.stop();
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.startedAt = performance.now() - this.frames * 20;
    this.tick();
  }

  private tick(): void {
    const now = performance.now();
    const due = Math.floor((now - this.startedAt) / 20) + 1;
    while (this.frames < due && this.ws.readyState === WebSocket.OPEN) {
      this.lateMs[this.frames] = now - (this.startedAt + this.frames * 20);
      this.sendFrame();
    }
    this.timer = setTimeout(() => this.tick(), 5);
  }

  async hangup(): Promise<void> {
    this.stop();
    if (this.options.framing === 'twilio' || this.options.framing.startsWith('plivo')) {
      this.ws.send(JSON.stringify({ event: 'stop', sequenceNumber: String(this.frames + 2), stop: {} }));
    }
    this.ws.close(1000);
    await this.closed;
  }

  private startMessage() {
    const callId = this.options.callId ?? crypto.randomUUID();
    switch (this.options.framing) {
      case 'plivo-mulaw':
      case 'plivo-l16':
        return {
          event: 'start',
          sequenceNumber: 1,
          start: {
            callId,
            streamId: crypto.randomUUID(),
            accountId: 'MA',
            tracks: ['inbound'],
            mediaFormat: { encoding: this.options.framing === 'plivo-mulaw' ? 'audio/x-mulaw' : 'audio/x-l16', sampleRate: this.rate },
          },
          extra_headers: Object.entries(this.options.params ?? {}).map(([key, value]) => `${key}=${value}`).join(','),
        };
      case 'twilio':
        return {
          event: 'start',
          sequenceNumber: '1',
          streamSid: 'MZ1',
          start: { accountSid: 'AC1', streamSid: 'MZ1', callSid: callId, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: this.options.params ?? {} },
        };
      case 'binary':
        return { event: 'start', call_uuid: callId, sample_rate: this.rate, custom_parameters: this.options.params };
    }
  }

  private sendFrame(): void {
    const samplesPerFrame = this.rate / 50;
    const samples = generateTone({ frequency: this.options.frequency, sampleRate: this.rate, durationMs: 20, amplitude: 0.3, startSample: this.frames * samplesPerFrame });
    const timestamp = this.frames * 20;
    this.frames += 1;
    if (this.options.framing === 'binary') {
      this.ws.send(encodePcm16le(samples));
      return;
    }
    const payload = Buffer.from(this.options.framing === 'plivo-l16' ? encodePcm16le(samples) : encodeMulaw(samples)).toString('base64');
    const twilio = this.options.framing === 'twilio';
    // Plivo's reference gives Unix epoch ms; Twilio's streams begin near, not at, 0.
    const origin = twilio ? 52 : this.epochOrigin;
    this.ws.send(
      JSON.stringify({
        event: 'media',
        sequenceNumber: twilio ? String(this.frames + 1) : this.frames + 1,
        streamSid: twilio ? 'MZ1' : undefined,
        media: { track: 'inbound', chunk: twilio ? String(this.frames) : this.frames, timestamp: String(timestamp + origin), payload },
      }),
    );
  }
}
