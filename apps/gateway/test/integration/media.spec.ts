import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecording, toneProfile } from '../support/audio.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ToneStream, type Framing } from '../support/stream-sender.js';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(() => gateway?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${gateway.api}/${path}`, {
    method,
    headers: { authorization: gateway.auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function join(mpc: string, role: string, extra: Record<string, unknown> = {}): Promise<{ streamUrl: string; callUuid: string }> {
  const added = await api('POST', `MultiPartyCall/name_${mpc}/Participant/`, { role, from: '+14155550100', to: '+14155550101', stay_alone: true, ...extra });
  return { streamUrl: added.calls[0].stream_url, callUuid: added.calls[0].call_uuid };
}

async function download(recordingUrl: string): Promise<Buffer> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const response = await fetch(recordingUrl);
    if (response.status === 200) return Buffer.from(await response.arrayBuffer());
    await sleep(100);
  }
  throw new Error(`no file at ${recordingUrl}`);
}

describe('recording live streams', () => {
  it.each([['wav'], ['mp3']] as const)('records a Plivo μ-law participant to %s', async (format) => {
    const mpc = `media_${format}`;
    const { streamUrl } = await join(mpc, 'Agent');
    const stream = new ToneStream({ url: streamUrl, framing: 'plivo-mulaw', frequency: 440 });
    await stream.start();
    await sleep(300);
    const started = await api('POST', `MultiPartyCall/name_${mpc}/Record/`, { file_format: format });
    await sleep(1500);
    await api('DELETE', `MultiPartyCall/name_${mpc}/Record/`, {});
    const audio = decodeRecording(await download(started.recording_url), format);
    await stream.hangup();
    expect(audio.durationMs).toBeGreaterThan(1400);
    expect(audio.durationMs).toBeLessThan(1700);
    const levels = toneProfile(audio, 440);
    console.log(format, audio.sampleRate, audio.durationMs, levels.map((l) => l.toFixed(2)).join(' '));
  });
});
