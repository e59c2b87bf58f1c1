import { encodeMulaw, encodePcm16le } from '@mpc/media';
import { describe, expect, it } from 'vitest';
import { StreamParser } from './stream-parser.js';

const json = (message: unknown) => Buffer.from(JSON.stringify(message));
const plivoStart = (encoding: string, sampleRate: number) =>
  json({ event: 'start', start: { callId: 'c1', streamId: 's1', mediaFormat: { encoding, sampleRate } } });
const twilioStart = (mediaFormat?: Record<string, unknown>) => json({ event: 'start', start: { streamSid: 'MZ1', callSid: 'CA1', mediaFormat } });
const media = (payload: string, timestamp = '0') => json({ event: 'media', media: { track: 'inbound', timestamp, payload } });
const ramp = (length: number) => Int16Array.from({ length }, (_, i) => i * 100 - 5000);

describe('StreamParser', () => {
  it('lets by events it has no use for, known or not, and binary frames beside a JSON framing, but not raw audio before any start', () => {
    const parser = new StreamParser();
    for (const event of ['connected', 'heartbeat', 'clearedAudio', 'x-vendor-event']) expect(parser.handle(json({ event }), false)).toEqual({ kind: 'ignored' });
    // Raw audio with no start message at all is no framing's.
    expect(parser.handle(Buffer.alloc(320), true)).toEqual({ kind: 'malformed', reason: 'binary frame before the start message' });
    expect(parser.handle(plivoStart('audio/x-mulaw', 8000), false)).toMatchObject({ kind: 'start', encoding: 'mulaw' });
    expect(parser.handle(Buffer.alloc(320), true)).toEqual({ kind: 'ignored' });
    expect(parser.handle(json({ nothing: true }), false)).toEqual({ kind: 'malformed', reason: 'a message with no event' });
  });

  it('drops a payload that is not base64, and an L16 payload of an odd number of bytes, as malformed', () => {
    const parser = new StreamParser();
    parser.handle(plivoStart('audio/x-l16', 8000), false);
    expect(parser.handle(media('this is not audio, only text!!!!'), false)).toEqual({ kind: 'malformed', reason: 'a payload that is not base64' });
    expect(parser.handle(media(Buffer.alloc(321).toString('base64')), false)).toEqual({ kind: 'malformed', reason: 'an L16 payload of an odd number of bytes' });
    const samples = ramp(160);
    expect(parser.handle(media(Buffer.from(encodePcm16le(samples)).toString('base64')), false)).toEqual({ kind: 'audio', timestampMs: 0, samples });
  });

  it('joins a sample the plain framing splits across two frames', () => {
    const parser = new StreamParser();
    parser.handle(json({ event: 'start', call_uuid: 'c1', sample_rate: 8000 }), false);
    const bytes = Buffer.from(encodePcm16le(ramp(320)));
    const first = parser.handle(bytes.subarray(0, 321), true);
    const second = parser.handle(bytes.subarray(321), true);
    expect(first).toMatchObject({ kind: 'audio', timestampMs: 0 });
    expect(second).toMatchObject({ kind: 'audio', timestampMs: 20 });
    const heard = [first, second].flatMap((event) => (event.kind === 'audio' ? [...event.samples] : []));
    expect(heard).toEqual([...ramp(320)]);
  });

  it('refuses a start whose audio its framing does not carry: mu-law at 16 kHz, or anything but mu-law in the Twilio framing', () => {
    expect(new StreamParser().handle(plivoStart('audio/x-mulaw', 16000), false)).toEqual({
      kind: 'bad-start',
      reason: 'a Plivo start message, but audio/x-mulaw at 16000 Hz: mu-law is 8000 Hz only',
    });
    expect(new StreamParser().handle(twilioStart({ encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 }), false)).toEqual({
      kind: 'bad-start',
      reason: 'a Twilio start message, but its audio is audio/x-l16: only audio/x-mulaw is taken in this framing',
    });
    expect(new StreamParser().handle(twilioStart({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 2 }), false)).toMatchObject({ kind: 'bad-start' });
    for (const format of [undefined, { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }]) {
      const parser = new StreamParser();
      expect(parser.handle(twilioStart(format), false)).toMatchObject({ kind: 'start', framing: 'twilio', encoding: 'mulaw', sampleRate: 8000 });
      expect(parser.handle(media(Buffer.from(encodeMulaw(ramp(160))).toString('base64'), '52'), false)).toMatchObject({ kind: 'audio', timestampMs: 52 });
    }
  });

  it('takes timestamps in ms since the Unix epoch, as Plivo\'s reference gives them, and drops as malformed one beyond an exact integer', () => {
    const parser = new StreamParser();
    parser.handle(plivoStart('audio/x-mulaw', 8000), false);
    const payload = Buffer.from(encodeMulaw(ramp(160))).toString('base64');
    expect(parser.handle(media(payload, '1705312200000'), false)).toMatchObject({ kind: 'audio', timestampMs: 1_705_312_200_000 });
    for (const timestamp of ['1'.repeat(400), 1e308, -1e308, String(2 ** 53)]) {
      expect(parser.handle(json({ event: 'media', media: { timestamp, payload } }), false), String(timestamp).slice(0, 20)).toEqual({ kind: 'malformed', reason: 'bad media message' });
    }
  });

  it('takes a start\'s parameters as strings, leaving out values that are none, however deeply nested', () => {
    // Built as text: the nesting is too deep for JSON.stringify, though not for the parser.
    const deep = `${'['.repeat(30_000)}"x"${']'.repeat(30_000)}`;
    const params = `{"role":"agent","n":3,"on":true,"nothing":null,"deep":${deep},"object":{"a":1}}`;
    const expected = { role: 'agent', n: '3', on: 'true' };
    const mulaw = '"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}';
    const starts = [
      `{"event":"start","start":{"callId":"c1","streamId":"s1",${mulaw},"customParameters":${params}}}`,
      `{"event":"start","start":{"callId":"c1","streamId":"s1",${mulaw}},"extra_headers":${JSON.stringify(params)}}`,
      `{"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","customParameters":${params}}}`,
      `{"event":"start","call_uuid":"c1","sample_rate":8000,"custom_parameters":${params}}`,
    ];
    for (const start of starts) expect(new StreamParser().handle(Buffer.from(start), false)).toMatchObject({ kind: 'start', params: expected });
  });
});
