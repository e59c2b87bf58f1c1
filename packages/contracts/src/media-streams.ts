import { z } from 'zod';

/**
 * Messages a participant's media stream sends over the WebSocket, in the three framings the
 * gateway accepts: Plivo audio streams, Twilio Media Streams (which many platforms copy) and a
 * plain framing for media servers (a JSON start message, then binary 16-bit PCM frames).
 * Counters arrive as numbers or numeric strings depending on the vendor; both are read.
 */

/**
 * A sequence number, or a timestamp in ms: since the stream began, or since the Unix epoch (Plivo's
 * reference says so), which only the differences between its frames' timestamps tell apart. One
 * beyond an exact integer (an infinity, 400 digits) could place no frame; 15 digits always fit.
 * Bounded in each branch rather than piped after both: this runs for every frame.
 */
const counter = z.union([z.number().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,15}$/).transform(Number)]);

/** Parameters as strings: a value that is no string, number or boolean (an object, an array, null) is left out. */
function parameterStrings(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).flatMap(([key, value]) => (['string', 'number', 'boolean'].includes(typeof value) ? [[key, String(value)]] : [])),
  );
}

/** `extra_headers` / custom parameters: `a=1,b=2`, `a=1;b=2` or a JSON object string. */
export const ExtraHeadersSchema = z
  .union([z.string(), z.record(z.string(), z.unknown())])
  .transform((raw): Record<string, string> => {
    if (typeof raw !== 'string') return parameterStrings(raw);
    const text = raw.trim();
    if (text.startsWith('{')) {
      try {
        const parsed = JSON.parse(text) as unknown;
        return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parameterStrings(parsed as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    }
    return Object.fromEntries(
      text
        .split(/[,;]/)
        .map((pair) => pair.split(/=(.*)/s))
        .filter(([key]) => key !== undefined && key.trim() !== '')
        .map(([key, value]) => [key!.trim(), (value ?? '').trim()]),
    );
  });

export const PlivoStreamStartSchema = z.object({
  event: z.literal('start'),
  sequenceNumber: counter.optional(),
  start: z.object({
    callId: z.string().min(1).max(64),
    streamId: z.string().min(1).max(64),
    accountId: z.string().optional(),
    tracks: z.array(z.string()).optional(),
    mediaFormat: z.object({
      encoding: z.string().transform((value) => value.split(';')[0]!.trim().toLowerCase()).pipe(z.enum(['audio/x-mulaw', 'audio/x-l16'])),
      sampleRate: counter.pipe(z.union([z.literal(8000), z.literal(16000)])),
    }),
    customParameters: ExtraHeadersSchema.optional(),
  }),
  extra_headers: ExtraHeadersSchema.optional(),
});

export const TwilioStreamStartSchema = z.object({
  event: z.literal('start'),
  sequenceNumber: counter.optional(),
  streamSid: z.string().optional(),
  start: z.object({
    streamSid: z.string().min(1).max(64),
    callSid: z.string().min(1).max(64),
    accountSid: z.string().optional(),
    tracks: z.array(z.string()).optional(),
    mediaFormat: z
      .object({ encoding: z.string().optional(), sampleRate: counter.optional(), channels: counter.optional() })
      .optional(),
    customParameters: ExtraHeadersSchema.optional(),
  }),
});

export const StreamMediaSchema = z.object({
  event: z.literal('media'),
  sequenceNumber: counter.optional(),
  media: z.object({
    track: z.string().optional(),
    chunk: counter.optional(),
    timestamp: counter,
    payload: z.string().max(65_536),
  }),
});

/** The plain framing's start message; binary frames of 16-bit little-endian PCM follow it. */
export const BinaryStreamStartSchema = z
  .object({
    event: z.literal('start'),
    call_uuid: z.string().min(1).max(64),
    sample_rate: counter.pipe(z.union([z.literal(8000), z.literal(16000)])).default(16000),
    encoding: z.enum(['pcm_s16le']).default('pcm_s16le'),
    role: z.string().optional(),
    custom_parameters: ExtraHeadersSchema.optional(),
  })
  .meta({
    id: 'BinaryStreamStart',
    description:
      'First message of the plain framing. Every later binary frame is 16-bit little-endian PCM at sample_rate, placed right after the previous one (20 ms frames recommended).',
  });

export type PlivoStreamStart = z.infer<typeof PlivoStreamStartSchema>;
export type TwilioStreamStart = z.infer<typeof TwilioStreamStartSchema>;
export type StreamMedia = z.infer<typeof StreamMediaSchema>;
export type BinaryStreamStart = z.infer<typeof BinaryStreamStartSchema>;

/** Close codes the gateway uses on media streams, beside the WebSocket standard ones. */
export const STREAM_CLOSE_CODES = {
  normal: 1000,
  malformed: 1007,
  policy: 1008,
  tooLarge: 1009,
  unauthorized: 4401,
  notFound: 4404,
  badStart: 4400,
  /** The gateway cannot serve the stream now (its database cannot be reached): connect again shortly. */
  tryAgainLater: 1013,
} as const;
