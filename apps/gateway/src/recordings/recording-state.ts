import { ApiError } from '../common/error-catalog.js';

export type RecordingStatus = 'recording' | 'paused' | 'completed' | 'failed';
export type RecordingCommand = 'pause' | 'resume' | 'stop' | 'fail';
/** The callback event a transition causes, without its MPCRecording / ParticipantRecording prefix. */
export type RecordingEventKind = 'Initiated' | 'Paused' | 'Resumed' | 'Completed' | 'Failed';

/** The part of a recording the state machine reads and writes. */
export interface RecordingTimeline {
  status: RecordingStatus;
  /** Recorded time of the segments closed so far. */
  recordedMs: number;
  /** Start of the segment being recorded now; null unless status is recording. */
  segmentStartedAt: Date | null;
  endedAt: Date | null;
}

export interface Transition {
  next: RecordingTimeline;
  event: RecordingEventKind;
}

export const isLive = (status: RecordingStatus) => status === 'recording' || status === 'paused';

/** Live, or stopped with no file yet: what a crash leaves to salvage (the rule of RecordingsRepository.unfinished). */
export const isUnfinished = (recording: { status: RecordingStatus; fileBytes: number | null }) =>
  isLive(recording.status) || (recording.status === 'completed' && recording.fileBytes === null);

export function startRecording(now: Date): Transition {
  return { next: { status: 'recording', recordedMs: 0, segmentStartedAt: now, endedAt: null }, event: 'Initiated' };
}

/** Recorded time up to `now`: closed segments plus the open one; pauses never count. */
export function recordedMs(timeline: RecordingTimeline, now: Date): number {
  const open = timeline.segmentStartedAt ? Math.max(0, now.getTime() - timeline.segmentStartedAt.getTime()) : 0;
  return timeline.recordedMs + open;
}

/**
 * When a recording whose file stopped short (a crash, a shutdown) really ended: where the audio
 * in its file ends on its timeline, not when that was found out. A paused recording keeps no
 * moment of its pause, so for it that is `now`.
 */
export function endOfRecordedAudio(timeline: RecordingTimeline, fileMs: number, now: Date): Date {
  if (!timeline.segmentStartedAt) return now;
  const end = timeline.segmentStartedAt.getTime() + Math.max(0, fileMs - timeline.recordedMs);
  return new Date(Math.min(end, now.getTime()));
}

/**
 * When a stop that took effect at `at`, which may be a while ago (a hangup the database took late),
 * ends the recording: then, if it has been recording since before it; otherwise, having changed
 * since or being paused (whose moment is not kept), `now`.
 */
export function stopsAt(timeline: RecordingTimeline, at: Date, now: Date): Date {
  const recordingSince = timeline.status === 'recording' ? timeline.segmentStartedAt : null;
  return recordingSince && recordingSince <= at && at < now ? at : now;
}

const closeSegment = (timeline: RecordingTimeline, now: Date) => ({ recordedMs: recordedMs(timeline, now), segmentStartedAt: null });

/**
 * not-recording → recording ⇄ paused → completed | failed. A command that does not fit the
 * current state is refused with a 400 that says why.
 */
export function applyCommand(timeline: RecordingTimeline, command: RecordingCommand, now: Date): Transition {
  if (!isLive(timeline.status)) {
    throw new ApiError('invalid_state', `the recording has already ${timeline.status === 'failed' ? 'failed' : 'completed'}`);
  }
  switch (command) {
    case 'pause':
      if (timeline.status === 'paused') throw new ApiError('invalid_state', 'the recording is already paused');
      return { next: { ...timeline, ...closeSegment(timeline, now), status: 'paused' }, event: 'Paused' };
    case 'resume':
      if (timeline.status === 'recording') throw new ApiError('invalid_state', 'the recording is not paused');
      return { next: { ...timeline, status: 'recording', segmentStartedAt: now }, event: 'Resumed' };
    case 'stop':
      return { next: { ...timeline, ...closeSegment(timeline, now), status: 'completed', endedAt: now }, event: 'Completed' };
    case 'fail':
      return { next: { ...timeline, ...closeSegment(timeline, now), status: 'failed', endedAt: now }, event: 'Failed' };
  }
}
