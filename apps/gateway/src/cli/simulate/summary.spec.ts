import { describe, expect, it } from 'vitest';
import type { ReceivedCallback } from './callback-receiver.js';
import type { SimulationResult } from './run.js';
import { formatCallbacks, formatSummary } from './summary.js';

const callback = (event: string, signatureValid: boolean | null): ReceivedCallback => ({ method: 'POST', event, params: { EventName: event }, signatureValid });

describe('formatCallbacks', () => {
  it('says so when none came', () => {
    expect(formatCallbacks([])).toBe('none received (not sent by this gateway version, or it cannot reach 127.0.0.1)');
  });

  it('lists the events and the signature check', () => {
    expect(formatCallbacks([callback('MPCRecordingInitiated', true), callback('MPCRecordingCompleted', true)])).toBe(
      '2 received: MPCRecordingInitiated, MPCRecordingCompleted (signatures valid)',
    );
    expect(formatCallbacks([callback('MPCRecordingInitiated', false), callback('MPCRecordingCompleted', true)])).toMatch(/1 of 2 signatures INVALID/);
    expect(formatCallbacks([callback('MPCRecordingInitiated', null)])).toMatch(/unsigned/);
  });
});

describe('formatSummary', () => {
  const durationLine = (recordedMs: string, expectedRecordedSeconds: number, pausedSeconds: number) => {
    const result = {
      mpcName: 'sim',
      mpcUuid: 'u',
      participants: [],
      recording: { recording_id: 'r', recording_status: 'completed', failure_reason: null, recording_format: 'mp3', sample_rate: 8000, recording_duration_ms: recordedMs },
      file: { path: '/tmp/r.mp3', bytes: 1, waitedMs: 0 },
      expectedRecordedSeconds,
      pausedSeconds,
      callSeconds: 0,
      callbacks: [],
    } as unknown as SimulationResult;
    return formatSummary(result, '/tmp').split('\n').find((line) => line.startsWith('duration'));
  };

  it('prints figures that add up as shown', () => {
    // 3.186 s against 3.194 s: both show as 3.19, so they are off by 0.00 as shown, not 0.01.
    expect(durationLine('3186.00000', 3.194, 1.996)).toMatch(/3\.19 s \(expected 3\.19 s: 5\.19 s from the start request to the stop's, less 2\.00 s paused; off by 0\.00 s\)$/);
    expect(durationLine('4996.00000', 4.994, 0)).toMatch(/5\.00 s \(expected 4\.99 s: .* off by 0\.01 s\)$/);
  });
});
