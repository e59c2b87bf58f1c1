import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsRecordingStorage, storageWith, type RecordingStorage } from '../../dist/storage/recording-storage.js';
import { decodeRecording, toneProfile } from '../support/audio.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { ToneStream } from '../support/stream-sender.js';

/** Whether finishing a file fails, as a rename into a directory made read-only does. */
let finishRefused = false;
/** Whether the database refuses the next transaction, as one whose disk is full too does. */
let refuseNextTransaction = false;

/** Files that accept `limit` bytes and then fail as a full disk does. */
function fullDiskAfter(limit: number, root: string): RecordingStorage {
  const real = new FsRecordingStorage(root);
  return storageWith(real, {
    create: async (key) => {
      const writer = await real.create(key);
      let written = 0;
      let failure: Error | undefined;
      return {
        get failure() {
          return failure ?? writer.failure;
        },
        append: (chunk) => {
          written += chunk.length;
          if (written > limit) failure ??= Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          else writer.append(chunk);
        },
        persist: () => writer.persist(),
        finish: async (header) => {
          if (failure) throw failure;
          if (!finishRefused) return writer.finish(header);
          await writer.persist();
          throw Object.assign(new Error('EACCES: permission denied, rename'), { code: 'EACCES' });
        },
        abort: () => writer.abort(),
        close: () => writer.close(),
      };
    },
  });
}

let gateway: TestGateway;
let receiver: CallbackReceiver;
let receiverUrl: string;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mpc-full-'));
  gateway = await startTestGateway({}, dataDir, { storage: fullDiskAfter(20_000, join(dataDir, 'recordings')) });
  const db = gateway.database.db as unknown as { transaction: (...args: unknown[]) => Promise<unknown> };
  const transaction = db.transaction.bind(db);
  db.transaction = async (...args: unknown[]) => {
    if (!refuseNextTransaction) return transaction(...args);
    refuseNextTransaction = false;
    throw Object.assign(new Error('could not extend file "base/5/16423": No space left on device'), { code: '53100', severity: 'ERROR' });
  };
  receiver = new CallbackReceiver(AUTH_TOKEN);
  receiverUrl = await receiver.start();
});
afterAll(async () => {
  await receiver?.stop();
  await gateway?.stop();
});

const call = (method: string, path: string, body?: unknown) =>
  fetch(`${gateway.api}/${path}`, { method, headers: { authorization: gateway.auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

describe('failures', () => {
  it('fails a recording whose storage fills up, says why, tells the receiver, keeps the audio written before, and keeps serving', async () => {
    const added = (await (await call('POST', 'MultiPartyCall/name_full/Participant/', { role: 'Agent', from: '1', to: '2', stay_alone: true })).json()) as { calls: { stream_url: string }[] };
    const stream = new ToneStream({ url: added.calls[0]!.stream_url, framing: 'plivo-mulaw', frequency: 440 });
    await stream.start();
    const started = (await (await call('POST', 'MultiPartyCall/name_full/Record/', { file_format: 'wav', recording_callback_url: `${receiverUrl}/full` })).json()) as { recording_id: string };
    // 20 kB of 8 kHz WAV is about 1.25 s: the recording fails then, while the call goes on.
    const callbacks = await receiver.waitFor(2, started.recording_id);
    expect(callbacks.map((callback) => callback.params.EventName)).toEqual(['MPCRecordingInitiated', 'MPCRecordingFailed']);
    expect(callbacks.every((callback) => callback.valid)).toBe(true);
    const recording = (await (await call('GET', `Recording/${started.recording_id}/`)).json()) as Record<string, string>;
    expect(recording).toMatchObject({ recording_status: 'failed' });
    expect(recording.failure_reason).toMatch(/^the recording file could not be written: ENOSPC.*; the \d+\.\d s written before are kept at recording_url$/);
    // What fitted on the disk: a WAV file whose header tells its true length, the tone throughout.
    const file = await fetch(recording.recording_url!);
    expect(file.status).toBe(200);
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.length).toBeLessThanOrEqual(20_000);
    const audio = decodeRecording(bytes, 'wav');
    expect(audio.durationMs).toBeGreaterThan(500);
    expect(Math.abs(audio.durationMs - Number(recording.recording_duration_ms))).toBeLessThan(2);
    expect(Number(callbacks[1]!.params.RecordingDuration)).toBe(Math.round(audio.durationMs / 1000));
    const levels = toneProfile(audio, 440).slice(2, -2);
    expect(levels.every((level) => level > 0.12), levels.map((level) => level.toFixed(2)).join(' ')).toBe(true);
    expect((await call('DELETE', 'MultiPartyCall/name_full/Record/', {})).status).toBe(400);
    expect((await call('GET', 'MultiPartyCall/name_full')).status).toBe(200);
    await stream.hangup();
  });

  it('fails a recording whose file cannot be finished once stopped, keeping the audio it has, also when the database refuses the failure at first', async () => {
    const added = (await (await call('POST', 'MultiPartyCall/name_unfinished/Participant/', { role: 'Agent', from: '1', to: '2', stay_alone: true })).json()) as { calls: { stream_url: string }[] };
    const stream = new ToneStream({ url: added.calls[0]!.stream_url, framing: 'plivo-mulaw', frequency: 440 });
    await stream.start();
    const started = (await (await call('POST', 'MultiPartyCall/name_unfinished/Record/', { file_format: 'wav', recording_callback_url: `${receiverUrl}/unfinished` })).json()) as { recording_id: string };
    await new Promise((resolve) => setTimeout(resolve, 800));
    finishRefused = true;
    try {
      expect((await call('DELETE', 'MultiPartyCall/name_unfinished/Record/', {})).status).toBe(204);
      // The failure's first try comes after the stop's: the database refuses it, and it is tried again.
      refuseNextTransaction = true;
      const callbacks = await receiver.waitFor(2, started.recording_id);
      expect(callbacks.map((callback) => callback.params.EventName)).toEqual(['MPCRecordingInitiated', 'MPCRecordingFailed']);
    } finally {
      finishRefused = false;
    }
    const recording = (await (await call('GET', `Recording/${started.recording_id}/`)).json()) as Record<string, string>;
    expect(recording).toMatchObject({ recording_status: 'failed' });
    expect(recording.failure_reason).toMatch(/^the recording file could not be written: EACCES.*; the \d+\.\d s written before are kept at recording_url$/);
    const audio = decodeRecording(Buffer.from(await (await fetch(recording.recording_url!)).arrayBuffer()), 'wav');
    expect(audio.durationMs).toBeGreaterThan(300);
    expect(Math.abs(audio.durationMs - Number(recording.recording_duration_ms))).toBeLessThan(2);
    await stream.hangup();
  });
});
