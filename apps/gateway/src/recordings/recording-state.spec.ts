import { describe, expect, it } from 'vitest';
import { ApiError } from '../common/error-catalog.js';
import { applyCommand, endOfRecordedAudio, recordedMs, startRecording, stopsAt, type RecordingCommand } from './recording-state.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

function run(commands: readonly (readonly [RecordingCommand, number])[]) {
  let timeline = startRecording(at(0)).next;
  const events: string[] = [];
  for (const [command, second] of commands) {
    const transition = applyCommand(timeline, command, at(second));
    timeline = transition.next;
    events.push(transition.event);
  }
  return { timeline, events };
}

describe('recording state machine', () => {
  it('starts recording with an Initiated event', () => {
    expect(startRecording(at(0))).toEqual({
      next: { status: 'recording', recordedMs: 0, segmentStartedAt: at(0), endedAt: null },
      event: 'Initiated',
    });
  });

  it('goes recording → paused → recording → completed, counting recorded time only', () => {
    const { timeline, events } = run([
      ['pause', 10],
      ['resume', 25],
      ['stop', 30],
    ]);
    expect(events).toEqual(['Paused', 'Resumed', 'Completed']);
    expect(timeline).toEqual({ status: 'completed', recordedMs: 15_000, segmentStartedAt: null, endedAt: at(30) });
  });

  it('stops from paused without counting the pause', () => {
    const { timeline } = run([
      ['pause', 4],
      ['stop', 60],
    ]);
    expect(timeline.recordedMs).toBe(4_000);
  });

  it('fails from any live state', () => {
    expect(run([['fail', 3]]).timeline).toMatchObject({ status: 'failed', recordedMs: 3_000, endedAt: at(3) });
    expect(run([['pause', 1], ['fail', 3]]).timeline).toMatchObject({ status: 'failed', recordedMs: 1_000 });
  });

  it.each([
    [[['pause', 1], ['pause', 2]], 'the recording is already paused'],
    [[['resume', 1]], 'the recording is not paused'],
    [[['stop', 1], ['pause', 2]], 'the recording has already completed'],
    [[['fail', 1], ['resume', 2]], 'the recording has already failed'],
  ] as const)('refuses %j with a 400', (commands, message) => {
    let error: unknown;
    try {
      run(commands);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_state', message });
  });

  it('counts the open segment up to now', () => {
    const timeline = startRecording(at(0)).next;
    expect(recordedMs(timeline, at(7))).toBe(7_000);
    expect(recordedMs({ ...timeline, segmentStartedAt: null, recordedMs: 5 }, at(7))).toBe(5);
  });

  it('ends a recording whose file stopped short where the file\'s audio ends, never later than now', () => {
    // Recorded 0–4 s, paused, resumed at 10 s: a 9 s file ends at 15 s on the clock.
    const resumed = { ...startRecording(at(0)).next, recordedMs: 4_000, segmentStartedAt: at(10) };
    expect(endOfRecordedAudio(resumed, 9_000, at(60))).toEqual(at(15));
    expect(endOfRecordedAudio(resumed, 3_000, at(60))).toEqual(at(10));
    expect(endOfRecordedAudio(resumed, 90_000, at(60))).toEqual(at(60));
    expect(endOfRecordedAudio({ ...resumed, segmentStartedAt: null }, 9_000, at(60))).toEqual(at(60));
  });

  it('stops a recording where a stop told late took effect, unless it changed since or is paused', () => {
    const resumed = { ...startRecording(at(0)).next, recordedMs: 4_000, segmentStartedAt: at(10) };
    expect(stopsAt(resumed, at(20), at(30))).toEqual(at(20));
    // Resumed after the stop took effect, or paused: its own moment is all there is.
    expect(stopsAt(resumed, at(5), at(30))).toEqual(at(30));
    expect(stopsAt({ ...resumed, status: 'paused', segmentStartedAt: null }, at(20), at(30))).toEqual(at(30));
    expect(stopsAt(resumed, at(30), at(30))).toEqual(at(30));
  });
});
