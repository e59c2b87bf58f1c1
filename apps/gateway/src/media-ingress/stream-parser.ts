import {
  BinaryStreamStartSchema,
  PlivoStreamStartSchema,
  StreamMediaSchema,
  TwilioStreamStartSchema,
} from '@mpc/contracts';
import { decodeMulaw, decodePcm16le } from '@mpc/media';

export type Framing = 'plivo' | 'twilio' | 'binary';

export interface StreamStart {
  kind: 'start';
  framing: Framing;
  callUuid: string;
  encoding: 'mulaw' | 'l16';
  sampleRate: 8000 | 16000;
  /** Custom parameters / extra headers: role and member may come from here. */
  params: Record<string, string>;
}

export type StreamEvent =
  | StreamStart
  | { kind: 'audio'; timestampMs: number; samples: Int16Array }
  | { kind: 'stop' }
  | { kind: 'ignored' }
  | { kind: 'malformed'; reason: string }
  /** A start message in no framing: the stream cannot begin. */
  | { kind: 'bad-start'; reason: string };

/**
 * Reads one participant's stream, message by message, in whichever framing its first message
 * shows: Plivo or Twilio JSON, or the plain framing (JSON start, then binary PCM).
 */
export class StreamParser {
  private start: StreamStart | undefined;
  /** Plain framing: samples received so far, which place the next frame. */
  private binarySamples = 0;
  /** Plain framing: the first byte of a sample whose second comes in the next frame. */
  private oddByte: Buffer | undefined;

  get started(): StreamStart | undefined {
    return this.start;
  }

  handle(data: Buffer, isBinary: boolean): StreamEvent {
    if (isBinary) return this.binary(data);
    let message: { event?: unknown };
    try {
      message = JSON.parse(data.toString('utf8')) as { event?: unknown };
    } catch {
      return { kind: 'malformed', reason: 'not JSON' };
    }
    if (typeof message !== 'object' || message === null) return { kind: 'malformed', reason: 'not a JSON object' };
    switch (message.event) {
      case 'start':
        return this.onStart(message);
      case 'media':
        return this.onMedia(message);
      case 'stop':
        return { kind: 'stop' };
      default:
        // Events the gateway has no use for, known or not (platforms add their own), are let by.
        return typeof message.event === 'string' ? { kind: 'ignored' } : { kind: 'malformed', reason: 'a message with no event' };
    }
  }

  private onStart(message: unknown): StreamEvent {
    if (this.start) return { kind: 'malformed', reason: 'a second start message' };
    const plivo = PlivoStreamStartSchema.safeParse(message);
    if (plivo.success) {
      const { start, extra_headers } = plivo.data;
      if (start.mediaFormat.encoding === 'audio/x-mulaw' && start.mediaFormat.sampleRate !== 8000) {
        return { kind: 'bad-start', reason: `a Plivo start message, but audio/x-mulaw at ${start.mediaFormat.sampleRate} Hz: mu-law is 8000 Hz only` };
      }
      return this.begin({
        framing: 'plivo',
        callUuid: start.callId,
        encoding: start.mediaFormat.encoding === 'audio/x-mulaw' ? 'mulaw' : 'l16',
        sampleRate: start.mediaFormat.encoding === 'audio/x-mulaw' ? 8000 : start.mediaFormat.sampleRate,
        params: { ...extra_headers, ...start.customParameters },
      });
    }
    const twilio = TwilioStreamStartSchema.safeParse(message);
    if (twilio.success) {
      const { start } = twilio.data;
      const format = twilioFormatProblem(start.mediaFormat);
      if (format) return { kind: 'bad-start', reason: `a Twilio start message, but ${format}` };
      return this.begin({ framing: 'twilio', callUuid: start.callSid, encoding: 'mulaw', sampleRate: 8000, params: start.customParameters ?? {} });
    }
    const binary = BinaryStreamStartSchema.safeParse(message);
    if (binary.success) {
      const { call_uuid, sample_rate, role, custom_parameters } = binary.data;
      return this.begin({
        framing: 'binary',
        callUuid: call_uuid,
        encoding: 'l16',
        sampleRate: sample_rate,
        params: { ...custom_parameters, ...(role && { role }) },
      });
    }
    return { kind: 'bad-start', reason: startProblem(message) };
  }

  private begin(start: Omit<StreamStart, 'kind'>): StreamStart {
    this.start = { kind: 'start', ...start };
    return this.start;
  }

  private onMedia(message: unknown): StreamEvent {
    const start = this.start;
    if (!start || start.framing === 'binary') return { kind: 'malformed', reason: 'media before start' };
    const parsed = StreamMediaSchema.safeParse(message);
    if (!parsed.success) return { kind: 'malformed', reason: 'bad media message' };
    const { track, timestamp, payload } = parsed.data.media;
    // Only what the participant says is recorded; the audio sent to them is the mix itself.
    if (track !== undefined && !track.startsWith('inbound')) return { kind: 'ignored' };
    const bytes = Buffer.from(payload, 'base64');
    if (bytes.length === 0) return { kind: 'malformed', reason: 'empty payload' };
    // Node decodes base64 leniently, skipping what is not base64: text would be heard as noise.
    if (bytes.length !== base64Length(payload)) return { kind: 'malformed', reason: 'a payload that is not base64' };
    if (start.encoding === 'l16' && bytes.length % 2 !== 0) return { kind: 'malformed', reason: 'an L16 payload of an odd number of bytes' };
    const samples = start.encoding === 'mulaw' ? decodeMulaw(bytes) : decodePcm16le(bytes);
    return { kind: 'audio', timestampMs: timestamp, samples };
  }

  private binary(data: Buffer): StreamEvent {
    const start = this.start;
    // Before any start, a binary frame is no framing's: a sender of raw audio without a start
    // message is refused after three. Beside a JSON framing, binary frames are not its audio: let by.
    if (!start) return { kind: 'malformed', reason: 'binary frame before the start message' };
    if (start.framing !== 'binary') return { kind: 'ignored' };
    // The plain framing is a byte stream: a sample split across two frames is joined again.
    let bytes = this.oddByte === undefined ? data : Buffer.concat([this.oddByte, data]);
    this.oddByte = undefined;
    if (bytes.length % 2 !== 0) {
      this.oddByte = bytes.subarray(bytes.length - 1);
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const samples = decodePcm16le(bytes);
    if (samples.length === 0) return { kind: 'ignored' };
    const timestampMs = (this.binarySamples * 1000) / start.sampleRate;
    this.binarySamples += samples.length;
    return { kind: 'audio', timestampMs, samples };
  }
}

/** How many bytes well-formed base64 of this length decodes to. */
function base64Length(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/**
 * What is wrong with a Twilio start's audio, if anything: this framing is taken as Twilio sends it,
 * mu-law at 8 kHz in one channel. Its copies that send other audio in it (L16, whose byte order
 * they do not agree on) are refused rather than heard as noise.
 */
function twilioFormatProblem(format: { encoding?: string; sampleRate?: number; channels?: number } | undefined): string | undefined {
  if (!format) return undefined;
  const encoding = format.encoding?.split(';')[0]!.trim().toLowerCase();
  if (encoding !== undefined && encoding !== 'audio/x-mulaw') return `its audio is ${format.encoding}: only audio/x-mulaw is taken in this framing`;
  if (format.sampleRate !== undefined && format.sampleRate !== 8000) return `its audio is at ${format.sampleRate} Hz: mu-law is 8000 Hz only`;
  if (format.channels !== undefined && format.channels !== 1) return `its audio has ${format.channels} channels: one is taken`;
  return undefined;
}

/** Why a start message is in no framing: what the framing it comes closest to misses. */
function startProblem(message: unknown): string {
  const start = (message as { start?: unknown }).start;
  const [framing, schema] =
    typeof start !== 'object' || start === null
      ? (['plain', BinaryStreamStartSchema] as const)
      : 'callSid' in start || 'streamSid' in start
        ? (['Twilio', TwilioStreamStartSchema] as const)
        : (['Plivo', PlivoStreamStartSchema] as const);
  const result = schema.safeParse(message);
  const issues = result.success ? [] : result.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  return `a ${framing} start message, but ${issues.join('; ')}`;
}
