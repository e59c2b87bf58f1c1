import { describe, expect, it } from 'vitest';
import type { ReceivedCallback } from './callback-receiver.js';
import { formatCallbacks } from './summary.js';

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
