import { randomUUID } from 'node:crypto';
import type { MpcRef, OperationInput, RecordTrackType, StartRecordingResponse } from '@mpc/contracts';
import { recordingCallbackParams } from '../callbacks/callback-params.js';
import type { OutboxRepository } from '../callbacks/outbox.repository.js';
import type { CallsRepository } from '../calls/calls.repository.js';
import { ApiError } from '../common/error-catalog.js';
import { reasonOf } from '../common/reason-of.js';
import { DAY_MS, isEmptyRange, timeRangeOf } from '../common/time-range.js';
import type { PublicUrls } from '../common/public-urls.js';
import type { Database, Queryable } from '../persistence/database.js';
import { CommitInDoubt } from '../persistence/pool-transactions.js';
import type { AccountRow, MpcRow, ParticipantRow, RecordingRequest, RecordingRow } from '../persistence/schema.js';
import { FIRST_STREAM_WAIT_MS } from '../recorder/recorder.service.js';
import { salvage } from '../recorder/salvage.js';
import { storageKey, type PartialFile, type RecordingStorage, type StoredFile } from '../storage/recording-storage.js';
import { ChangeLog, NO_OBSERVER, type RecordingObserver } from './recording-observer.js';
import { applyCommand, endOfRecordedAudio, isLive, isUnfinished, recordedMs, startRecording, stopsAt, type RecordingCommand, type RecordingEventKind } from './recording-state.js';
import { presentRecording } from './recordings.presenter.js';
import type { RecordingsRepository } from './recordings.repository.js';

type Track = 'participant' | 'all';
const tracksOf = (type: RecordTrackType): Track[] => (type === 'both' ? ['participant', 'all'] : [type]);

/**
 * The live recordings of a member that a stop, pause or resume names. The SDKs send `all` unless
 * told otherwise, so `all` also names the single-track recording of a member who has no multichannel
 * one: a stop with the SDK's defaults stops what a start with `participant` began.
 */
function commandedRecordings(live: RecordingRow[], type: RecordTrackType): RecordingRow[] {
  const named = live.filter((recording) => tracksOf(type).includes(recording.trackType!));
  return named.length === 0 && type === 'all' ? live : named;
}

/** Enough of a file's start for its header: WAV's 44 bytes, an MP3 frame header. */
const PUBLISHED_HEAD_BYTES = 512;
const RESTART_CAUSE = 'the gateway stopped while recording';
const SHARD_CAUSE = 'the media shard that held this recording stopped';
/** How long a delete waits for the file of a recording just stopped (it takes a tick or two), and how recent a stop it waits for. */
const DELETE_WAITS_FOR_FILE_MS = 5000;
const DELETE_POLL_MS = 50;

export interface FinishedFile {
  bytes: number;
  durationMs: number;
  sampleRate: number;
}

/** What a restart's recovery did: recordings completed, failed and carried on, and those left for the next start. */
export interface Recovered {
  completed: number;
  failed: number;
  /** Stopped, and left to storeWaiting: their file waits for storage to take it, or to be looked up there. */
  waiting: number;
  /** Still live: their call had had no stream, so there was nothing to lose, and they wait for its first one again. */
  carriedOn: number;
  left: { recording_id: string; error: string }[];
}

type Recovery = 'completed' | 'failed' | 'waiting' | 'carriedOn';

/** Where recording events go to be delivered as callbacks. */
export interface CallbackOutbox {
  outbox: OutboxRepository;
  /** Called after a transaction that wrote events, so delivery starts at once. */
  wake(): void;
  /** Refuses, with a 400, a callback URL whose host is out of bounds (private addresses). */
  check(url: string): Promise<void>;
}


function assertActive(mpc: MpcRow): MpcRow {
  if (mpc.status !== 'Active') {
    throw new ApiError('invalid_state', `MPC ${mpc.friendlyName} is ${mpc.status.toLowerCase()}, not active: it cannot be recorded`);
  }
  return mpc;
}

export class RecordingsService {
  /** Recordings left to storeWaiting by recover, each with what cut it off. */
  private readonly waiting = new Map<string, string>();

  constructor(
    private readonly db: Database,
    private readonly recordings: RecordingsRepository,
    private readonly calls: CallsRepository,
    private readonly urls: PublicUrls,
    private readonly storage: RecordingStorage,
    private readonly callbacks: CallbackOutbox,
    private readonly observer: RecordingObserver = NO_OBSERVER,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Runs `work` in a transaction and, once it has committed, tells the recorder and the dispatcher:
   * also when it turns out to have committed only after the request failed (a commit in doubt).
   */
  async inTransaction<T>(work: (tx: Queryable, log: ChangeLog) => Promise<T>): Promise<T> {
    const log = new ChangeLog();
    const committed = () => {
      log.publish(this.observer);
      if (log.callbacksWritten > 0) this.callbacks.wake();
    };
    try {
      const result = await this.db.transaction((tx) => work(tx, log));
      committed();
      return result;
    } catch (error) {
      if (error instanceof CommitInDoubt) void error.committed().then((made) => made && committed(), () => undefined);
      throw error;
    }
  }

  /**
   * Writes the callback an event causes into the outbox, in the transaction of the change itself,
   * so no event is lost or invented by a crash.
   */
  private async writeCallback(tx: Queryable, log: ChangeLog, recording: RecordingRow, event: RecordingEventKind, at: Date, mpc?: MpcRow): Promise<void> {
    if (!recording.callbackUrl) return;
    const owner = mpc ?? (await this.calls.findMpcByUuid(tx, recording.mpcUuid));
    // A recording is inserted with the SequenceNumber of its first event already taken.
    const sequenceNumber = event === 'Initiated' ? recording.callbackSequence : await this.callbacks.outbox.nextSequence(tx, recording.recordingId);
    const params = recordingCallbackParams(
      { recording, mpc: owner!, event, at, sequenceNumber, recordedMs: recordedMs(recording, at) },
      this.urls,
    );
    await this.callbacks.outbox.insert(tx, {
      recordingId: recording.recordingId,
      authId: recording.authId,
      sequenceNumber,
      eventName: params.EventName!,
      url: recording.callbackUrl,
      method: recording.callbackMethod,
      params,
      nextAttemptAt: at,
      createdAt: at,
    });
    log.callbacksWritten += 1;
  }

  /** Starts the MPC's recording, or answers the live one: concurrent starts create exactly one. */
  async startMpcRecording(account: AccountRow, ref: MpcRef, request: RecordingRequest): Promise<Omit<StartRecordingResponse, 'api_id'>> {
    if (request.callbackUrl) await this.callbacks.check(request.callbackUrl);
    return this.inTransaction(async (tx, log) => {
      const { mpc, live } = await this.lockedMpcWithLiveRecording(tx, account, ref);
      assertActive(mpc);
      const recording =
        live ?? (await this.insertStarted(tx, mpc, null, null, request, log)) ?? (await this.recordings.liveMpcRecording(tx, mpc.mpcUuid))!;
      return { message: `MPC: ${mpc.friendlyName} record started`, ...this.reference(recording) };
    });
  }

  async commandMpcRecording(account: AccountRow, ref: MpcRef, command: RecordingCommand): Promise<void> {
    await this.inTransaction(async (tx, log) => {
      const { mpc, live } = await this.lockedMpcWithLiveRecording(tx, account, ref);
      if (!live) throw new ApiError('invalid_state', `MPC ${mpc.friendlyName} has no recording in progress`);
      await this.transition(tx, live, command, log, { mpc });
    });
  }

  async startParticipantRecording(
    account: AccountRow,
    ref: MpcRef,
    memberId: string,
    request: RecordingRequest & { trackType: RecordTrackType },
  ): Promise<Omit<StartRecordingResponse, 'api_id'>> {
    if (request.callbackUrl) await this.callbacks.check(request.callbackUrl);
    return this.inTransaction(async (tx, log) => {
      const mpc = await this.activeMpc(tx, account, ref);
      const participant = await this.presentParticipant(tx, mpc, memberId);
      const live = await this.recordings.liveParticipantRecordings(tx, participant.memberId);
      const started: RecordingRow[] = [];
      for (const track of tracksOf(request.trackType)) {
        const ofTrack = (recordings: RecordingRow[]) => recordings.find((recording) => recording.trackType === track);
        // Inserted here, or by a concurrent start that won the race (then it is live now).
        const recording =
          ofTrack(live) ??
          (await this.insertStarted(tx, mpc, participant, track, request, log)) ??
          ofTrack(await this.recordings.liveParticipantRecordings(tx, participant.memberId))!;
        started.push(recording);
      }
      const first = started[0]!;
      return {
        message: `MPC: ${mpc.friendlyName} participant record started`,
        ...this.reference(first),
        ...(started.length > 1 && {
          recordings: started.map((recording) => ({ ...this.reference(recording), record_track_type: recording.trackType! })),
        }),
      };
    });
  }

  async commandParticipantRecording(account: AccountRow, ref: MpcRef, memberId: string, trackType: RecordTrackType, command: RecordingCommand): Promise<void> {
    await this.inTransaction(async (tx, log) => {
      const mpc = await this.lockedMpc(tx, account, ref);
      const participant = await this.presentParticipant(tx, mpc, memberId);
      const targets = commandedRecordings(await this.recordings.liveParticipantRecordings(tx, participant.memberId), trackType);
      if (targets.length === 0) {
        throw new ApiError('invalid_state', `member ${memberId} has no recording in progress with record_track_type ${trackType}`);
      }
      for (const recording of targets) await this.transition(tx, recording, command, log, { mpc });
    });
  }

  /** The MPC's live recording, started now if there is none; used inside the caller's transaction. */
  async ensureMpcRecording(tx: Queryable, mpc: MpcRow, request: RecordingRequest, log: ChangeLog): Promise<RecordingRow> {
    const live = () => this.recordings.liveMpcRecording(tx, mpc.mpcUuid);
    return (await live()) ?? (await this.insertStarted(tx, mpc, null, null, request, log)) ?? (await live())!;
  }

  private async insertStarted(
    tx: Queryable,
    mpc: MpcRow,
    participant: ParticipantRow | null,
    track: Track | null,
    request: RecordingRequest,
    log: ChangeLog,
  ): Promise<RecordingRow | undefined> {
    const now = this.now();
    const { next, event } = startRecording(now);
    const recording = await this.recordings.insertUnlessLive(tx, {
      recordingId: randomUUID(),
      authId: mpc.authId,
      mpcUuid: mpc.mpcUuid,
      memberId: participant?.memberId ?? null,
      scope: participant ? 'participant' : 'mpc',
      trackType: track,
      fileFormat: request.fileFormat,
      callbackUrl: request.callbackUrl ?? null,
      callbackMethod: request.callbackMethod,
      addedAt: now,
      startedAt: now,
      callbackSequence: request.callbackUrl ? 1 : 0,
      ...next,
    });
    if (!recording) return undefined;
    log.recordings.push({ recording, event, at: now, mpcName: mpc.friendlyName, callUuid: participant?.callUuid, maxParticipants: mpc.maxParticipants });
    await this.writeCallback(tx, log, recording, event, now, mpc);
    return recording;
  }

  /**
   * Completes every live recording of the MPC, or of some of its participants, when they leave, at
   * `at`: the moment they left, which may be a while ago (see stopsAt).
   */
  async completeLive(tx: Queryable, log: ChangeLog, mpcUuid: string, { memberIds, at }: { memberIds?: number[]; at?: Date } = {}): Promise<void> {
    const live = await this.recordings.liveRecordingsOfMpc(tx, mpcUuid);
    const now = this.now();
    for (const recording of live) {
      const concerned = memberIds === undefined || (recording.memberId !== null && memberIds.includes(recording.memberId));
      if (concerned) await this.transition(tx, recording, 'stop', log, { at: stopsAt(recording, at ?? now, now) });
    }
  }

  /**
   * After a restart: every recording that was live (or whose file was being finished) is completed
   * from the audio already stored, or failed when none is usable, with its callback either way;
   * one still waiting for its call's first stream is carried on (see carryOn).
   * Nothing here waits for remote storage (an S3 bucket): what needs it is left to storeWaiting,
   * which runs once requests are let in, so a bucket out of reach holds up neither the others nor
   * the start. One that fails here for another reason is tried again there too.
   */
  async recoverAfterRestart(): Promise<Recovered> {
    const counts: Recovered = { completed: 0, failed: 0, waiting: 0, carriedOn: 0, left: [] };
    for (const recording of await this.recordings.unfinished(this.db)) {
      try {
        counts[await this.recover(recording, RESTART_CAUSE, { waitForRemote: false })] += 1;
      } catch (error) {
        this.waiting.set(recording.recordingId, RESTART_CAUSE);
        counts.left.push({ recording_id: recording.recordingId, error: reasonOf(error) });
      }
    }
    return counts;
  }

  /** A media shard that held this recording died: it is finished from storage, as after a restart. */
  async salvage(recordingId: string): Promise<void> {
    const [recording] = await this.recordings.byIds(this.db, [recordingId]);
    if (!recording || !isUnfinished(recording)) return;
    try {
      await this.recover(recording, SHARD_CAUSE, { waitForRemote: false });
    } catch (error) {
      this.waiting.set(recordingId, SHARD_CAUSE);
      throw error;
    }
  }

  /** How many recordings wait for storage to take their file (see recover). */
  get waitingForStorage(): number {
    return this.waiting.size;
  }

  /**
   * Tries once more to finish each recording left waiting by recover: answers those completed,
   * those failed (no usable audio after all), and those still waiting, with why.
   */
  async storeWaiting(): Promise<{ completed: string[]; failed: string[]; still: { recording_id: string; reason: string }[] }> {
    const done = { completed: [] as string[], failed: [] as string[], still: [] as { recording_id: string; reason: string }[] };
    for (const [recordingId, cause] of [...this.waiting]) {
      try {
        const [recording] = await this.recordings.byIds(this.db, [recordingId]);
        // Gone (deleted) or finished meanwhile: nothing is left to do.
        const outcome = recording && isUnfinished(recording) ? await this.recover(recording, cause, { waitForRemote: true }) : undefined;
        this.waiting.delete(recordingId);
        if (outcome === 'completed' || outcome === 'failed') done[outcome].push(recordingId);
      } catch (error) {
        done.still.push({ recording_id: recordingId, reason: reasonOf(error) });
      }
    }
    return done;
  }

  /**
   * Publishes what storage holds of an unfinished recording, or fails it when nothing there is
   * usable. Unless `waitForRemote`, a file remote storage must take, or be asked about, is left to
   * storeWaiting (see leaveWaiting).
   */
  private async recover(recording: RecordingRow, cause: string, { waitForRemote }: { waitForRemote: boolean }): Promise<Recovery> {
    const { recordingId } = recording;
    const partial = await this.storage.partial(storageKey(recording));
    // A stopped one with a file in the making was made from its silence: that file is finished below.
    if ((isLive(recording.status) || !partial) && (await this.carryOn(recording, partial))) return 'carriedOn';
    // Not knowing where its audio ends, it ends where its known audio does, as one cut off.
    if (!partial && this.storage.remote && !waitForRemote) return this.leaveWaiting(recording, cause, recording.recordedMs);
    // No unfinished file: it may have been published just before the process died, the database not yet told.
    const published = partial ? undefined : await this.publishedFile(recording);
    if (published) {
      await this.inTransaction((tx, log) => this.finishFile(tx, log, recordingId, published));
      return 'completed';
    }
    const salvaged = partial && (await this.publishSalvaged(recording, partial));
    if (!salvaged) {
      await this.fail(recordingId, `${cause}, and no usable audio of this recording could be recovered from storage`, { cutOff: true });
      return 'failed';
    }
    const { file, store } = salvaged;
    if (store) {
      if (!waitForRemote) return this.leaveWaiting(recording, cause, file.durationMs);
      await store();
    }
    await this.inTransaction((tx, log) => this.finishFile(tx, log, recordingId, file));
    return 'completed';
  }

  /**
   * Hands a recording back to the recorder, as it stands, when its call has had no stream: all it
   * holds is silence, so nothing is lost, and its call goes on. A live one waits for the call's
   * first stream again, which sets the rate of its file; a paused one stays paused; one stopped
   * before its file was made is made now. Its file begins as long before now as it has recorded,
   * as with no restart, but for silence more than FIRST_STREAM_WAIT_MS long: a recording made from
   * a stream's wait holds no more, and hours of downtime would be made in one go. What its file
   * held so far, silence too, is dropped. Answers whether it did.
   */
  private async carryOn(recording: RecordingRow, partial: PartialFile | undefined): Promise<boolean> {
    const [mpc, participants] = await Promise.all([this.calls.findMpcByUuid(this.db, recording.mpcUuid), this.calls.listParticipants(this.db, recording.mpcUuid)]);
    if (!mpc || participants.some((participant) => participant.streamedAt !== null)) return false;
    await partial?.discard();
    const now = this.now();
    const silenceMs = Math.min(recordedMs(recording, recording.endedAt ?? now), FIRST_STREAM_WAIT_MS);
    const start = {
      recording,
      event: 'Initiated' as const,
      at: new Date(now.getTime() - silenceMs),
      mpcName: mpc.friendlyName,
      callUuid: participants.find((participant) => participant.memberId === recording.memberId)?.callUuid,
      maxParticipants: mpc.maxParticipants,
      carriedOn: true,
    };
    const then = recording.status === 'paused' ? 'Paused' : recording.status === 'completed' ? 'Completed' : undefined;
    this.observer.recordingsChanged(then ? [start, { recording, event: then, at: now }] : [start]);
    return true;
  }

  /**
   * Publishes what is usable of a recording's unfinished file as its finished file (`store` set
   * where remote storage has yet to take it); nothing, the file dropped, when none of it is.
   */
  private async publishSalvaged(recording: RecordingRow, partial: PartialFile): Promise<{ file: FinishedFile; store?: () => Promise<void> } | undefined> {
    const usable = salvage(recording.fileFormat, partial.head, partial.size);
    if (!usable) {
      await partial.discard();
      return undefined;
    }
    const { store } = await partial.publish(usable.header, usable.keep);
    return { file: { bytes: usable.keep, durationMs: usable.durationMs, sampleRate: usable.sampleRate }, store };
  }

  /**
   * Leaves the recording to storeWaiting, stopped where `durationMs` of its audio ends, so no
   * request acts on it as live meanwhile (the restart lets them in next).
   */
  private async leaveWaiting(recording: RecordingRow, cause: string, durationMs: number): Promise<'waiting'> {
    this.waiting.set(recording.recordingId, cause);
    await this.inTransaction((tx, log) => this.stopWhereAudioEnds(tx, log, recording.recordingId, durationMs));
    return 'waiting';
  }

  /** A published file, as its header describes it. */
  private async publishedFile(recording: RecordingRow): Promise<FinishedFile | undefined> {
    const file = await this.storage.get(storageKey(recording));
    if (!file || file.size === 0) return undefined;
    const head = Buffer.concat(await file.read({ start: 0, end: Math.min(file.size, PUBLISHED_HEAD_BYTES) - 1 }).toArray());
    const described = salvage(recording.fileFormat, head, file.size);
    return described && { bytes: file.size, durationMs: described.durationMs, sampleRate: described.sampleRate };
  }

  /** Refuses a callback URL the gateway may not call (see CALLBACK_ALLOW_PRIVATE). */
  checkCallbackUrl(url: string): Promise<void> {
    return this.callbacks.check(url);
  }

  /** The callback deliveries of a recording, attempt by attempt (beyond Plivo). */
  async deliveries(account: AccountRow, recordingId: string) {
    const view = await this.recordings.find(this.db, account.authId, recordingId);
    if (!view) throw new ApiError('not_found', `recording ${recordingId} not found`);
    const rows = await this.callbacks.outbox.ofRecording(this.db, account.authId, recordingId);
    return rows.map(({ event, attempts }) => ({
      sequence_number: event.sequenceNumber,
      event_name: event.eventName,
      url: event.url,
      method: event.method,
      status: event.status,
      created_at: event.createdAt.toISOString(),
      attempts: attempts.map((attempt) => ({
        attempted_at: attempt.attemptedAt.toISOString(),
        http_status: attempt.httpStatus,
        latency_ms: attempt.latencyMs,
        error: attempt.error,
      })),
    }));
  }

  /** The recorder finished the file: its true duration and size are now known. */
  async fileFinished(recordingId: string, file: FinishedFile): Promise<void> {
    await this.inTransaction((tx, log) => this.finishFile(tx, log, recordingId, file));
  }

  /**
   * Records the file of a completed recording, with its Completed callback. A file finished while
   * its recording is live was cut short by the recorder stopping (the gateway shutting down): the
   * recording completes there, with that file. A failed recording is left alone.
   */
  private async finishFile(tx: Queryable, log: ChangeLog, recordingId: string, file: FinishedFile): Promise<void> {
    const fileOf = { recordedMs: Math.round(file.durationMs), fileBytes: file.bytes, sampleRate: file.sampleRate };
    let finished = await this.recordings.setFileOfCompleted(tx, recordingId, fileOf);
    if (!finished && (await this.stopWhereAudioEnds(tx, log, recordingId, file.durationMs))) {
      finished = await this.recordings.setFileOfCompleted(tx, recordingId, fileOf);
    }
    if (finished) await this.writeCallback(tx, log, finished, 'Completed', this.now());
  }

  /** Stops the recording, if it is live, where `durationMs` of recorded audio ends; answers whether it did. */
  private async stopWhereAudioEnds(tx: Queryable, log: ChangeLog, recordingId: string, durationMs: number): Promise<boolean> {
    const [recording] = await this.recordings.byIds(tx, [recordingId]);
    if (!recording || !isLive(recording.status)) return false;
    await this.transition(tx, recording, 'stop', log, { at: endOfRecordedAudio(recording, durationMs, this.now()) });
    return true;
  }

  /**
   * The recording cannot go on, or its file could not be finished: it ends as failed, with the
   * reason. One `cutOff` by a stopped process, with no audio kept of its last stretch, ends where that
   * stretch began: when the process stopped is not known, and the time since is no recording. One
   * that `kept` a file of what was written ends where that file does, and serves it.
   */
  async fail(recordingId: string, reason: string, { cutOff = false, kept }: { cutOff?: boolean; kept?: FinishedFile } = {}): Promise<void> {
    await this.inTransaction(async (tx, log) => {
      const [recording] = await this.recordings.byIds(tx, [recordingId]);
      if (!recording || recording.status === 'failed') return;
      const patch = { failureReason: reason, ...(kept && { fileBytes: kept.bytes, sampleRate: kept.sampleRate }) };
      if (isLive(recording.status)) {
        await this.recordings.update(tx, recordingId, patch);
        // Its recorded time is counted by the transition, up to where it ends.
        const audioMs = kept ? kept.durationMs : cutOff ? recording.recordedMs : undefined;
        const at = audioMs === undefined ? this.now() : endOfRecordedAudio(recording, audioMs, this.now());
        await this.transition(tx, { ...recording, ...patch }, 'fail', log, { at });
      } else {
        // Completed on the API, but the file could not be made: the recording has failed after all.
        const failed = { ...recording, ...patch, ...(kept && { recordedMs: Math.round(kept.durationMs) }), status: 'failed' as const };
        const at = this.now();
        await this.recordings.update(tx, recordingId, { ...patch, recordedMs: failed.recordedMs, status: 'failed' });
        log.recordings.push({ recording: failed, event: 'Failed', at });
        await this.writeCallback(tx, log, failed, 'Failed', at);
      }
    });
  }

  /**
   * The recording's file could not be written on (a full disk): it fails, and
   * what was written of it, as far as it is usable, is kept and served at its URL, the reason saying
   * how much. Not on remote storage: a bucket would have to take the file, for a recording that has
   * failed all the same.
   */
  async failKeepingWritten(recordingId: string, reason: string): Promise<void> {
    const [recording] = await this.recordings.byIds(this.db, [recordingId]);
    const kept = recording && isUnfinished(recording) ? await this.keepWritten(recording) : undefined;
    const seconds = kept && (kept.durationMs / 1000).toFixed(1);
    await this.fail(recordingId, kept ? `${reason}; the ${seconds} s written before are kept at recording_url` : reason, { kept });
  }

  private async keepWritten(recording: RecordingRow): Promise<FinishedFile | undefined> {
    const partial = await this.storage.partial(storageKey(recording)).catch(() => undefined);
    // Published already, by a try the database did not take (it is retried): kept all the same.
    if (!partial) return this.storage.remote ? undefined : this.publishedFile(recording).catch(() => undefined);
    try {
      if (this.storage.remote) {
        await partial.discard();
        return undefined;
      }
      return (await this.publishSalvaged(recording, partial))?.file;
    } catch {
      // The disk that filled may refuse this too: the recording fails with nothing kept.
      await partial.discard().catch(() => undefined);
      return undefined;
    }
  }

  async get(account: AccountRow, recordingId: string) {
    const view = await this.recordings.find(this.db, account.authId, recordingId);
    if (!view) throw new ApiError('not_found', `recording ${recordingId} not found`);
    return presentRecording(view, this.urls, this.now());
  }

  async list(account: AccountRow, query: OperationInput<'listRecordings'>['query']) {
    const now = this.now();
    const added = timeRangeOf(query, 'add_time');
    const storage = {
      eq: query.recording_storage_duration,
      gt: query.recording_storage_duration__gt,
      gte: query.recording_storage_duration__gte,
      lt: query.recording_storage_duration__lt,
      lte: query.recording_storage_duration__lte,
    };
    const byAddTime = !isEmptyRange(added);
    const byStorage = Object.values(storage).some((value) => value !== undefined);
    if (byAddTime && byStorage) {
      throw new ApiError('invalid_parameter', 'recording_storage_duration filters cannot be combined with add_time filters');
    }
    if (byStorage) {
      // Storage duration is whole days since the recording was added.
      const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
      if (storage.eq !== undefined) Object.assign(added, { lte: daysAgo(storage.eq), gt: daysAgo(storage.eq + 1) });
      if (storage.gt !== undefined) added.lte = daysAgo(storage.gt + 1);
      if (storage.gte !== undefined) added.lte = daysAgo(storage.gte);
      if (storage.lt !== undefined) added.gt = daysAgo(storage.lt);
      if (storage.lte !== undefined) added.gt = daysAgo(storage.lte + 1);
    } else if (byAddTime) {
      // A range open at either end is no span: Plivo's own example lists an MPC's recordings since a date long past.
      const from = added.gt ?? added.gte;
      const to = added.lt ?? added.lte;
      if (from && to && to.getTime() - from.getTime() > 30 * DAY_MS) {
        throw new ApiError('invalid_parameter', 'the add_time range may span at most 30 days');
      }
    } else {
      added.gte = new Date(now.getTime() - 7 * DAY_MS);
    }
    // Subaccounts are not modelled: every recording is the main account's, none a subaccount's.
    if (query.subaccount !== undefined) return { rows: [], total: 0 };
    const { rows, total } = await this.recordings.list(this.db, account.authId, {
      callUuid: query.call_uuid,
      mpcUuid: (query.mpc_uuid ?? query.conference_uuid)?.toLowerCase(),
      mpcName: query.mpc_name ?? query.conference_name,
      fromNumber: query.from_number,
      toNumber: query.to_number,
      added,
      limit: query.limit,
      offset: query.offset,
    });
    return { rows: rows.map((view) => presentRecording(view, this.urls, now)), total };
  }

  /** The published file of a recording, for the media route. */
  async file(authId: string, recordingId: string, format: string): Promise<StoredFile> {
    const view = await this.recordings.find(this.db, authId, recordingId);
    if (!view || view.recording.fileFormat !== format) throw new ApiError('not_found', `recording ${recordingId}.${format} not found`);
    if (isLive(view.recording.status)) throw new ApiError('not_found', `recording ${recordingId} is still in progress; its file is served once it is complete`);
    const file = view.recording.fileBytes === null ? undefined : await storageServing(() => this.storage.get(storageKey(view.recording)));
    if (!file) throw new ApiError('not_found', `recording ${recordingId} has no file${view.recording.status === 'failed' ? ': it failed' : ' yet'}`);
    return file;
  }

  /**
   * Deletes a stopped recording's file, then the recording. One stopped a moment before waits for
   * its file (a few seconds at most), so that it ends as its callbacks say, with its Completed (or
   * Failed) event sent. Storage out of reach answers 503 with the recording left whole, to be
   * deleted again later (the other order would leave its file behind for good); so does a file
   * storage has not taken yet.
   */
  async delete(account: AccountRow, recordingId: string): Promise<void> {
    await this.fileOfJustStopped(account, recordingId);
    const { recording } = await this.deletable(this.db, account, recordingId);
    if (isUnfinished(recording)) throw new ApiError('storage_unavailable', undefined, { cause: new Error('its file is not stored yet') });
    await storageServing(() => this.storage.delete(storageKey(recording)));
    await this.db.transaction(async (tx) => {
      await this.deletable(tx, account, recordingId);
      await this.recordings.delete(tx, recordingId);
      // Its callback history goes with it (its deliveries route answers 404 from now on).
      await this.callbacks.outbox.deleteFinished(tx, recordingId);
    });
  }

  private async deletable(db: Queryable, account: AccountRow, recordingId: string) {
    const view = await this.recordings.find(db, account.authId, recordingId);
    if (!view) throw new ApiError('not_found', `recording ${recordingId} not found`);
    if (isLive(view.recording.status)) throw new ApiError('invalid_state', 'the recording is in progress; stop it before deleting it');
    return view;
  }

  /** Waits, for a while, for the file of a recording stopped in the last few seconds. */
  private async fileOfJustStopped(account: AccountRow, recordingId: string): Promise<void> {
    const deadline = performance.now() + DELETE_WAITS_FOR_FILE_MS;
    for (;;) {
      const recording = (await this.recordings.find(this.db, account.authId, recordingId))?.recording;
      if (!recording || isLive(recording.status) || !isUnfinished(recording) || !recording.endedAt) return;
      const stoppedMsAgo = this.now().getTime() - recording.endedAt.getTime();
      if (stoppedMsAgo >= DELETE_WAITS_FOR_FILE_MS || performance.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, DELETE_POLL_MS));
    }
  }

  private async transition(
    tx: Queryable,
    recording: RecordingRow,
    command: RecordingCommand,
    log: ChangeLog,
    { mpc, at = this.now() }: { mpc?: MpcRow; at?: Date } = {},
  ): Promise<void> {
    const { next, event } = applyCommand(recording, command, at);
    // Only the timeline changes (next carries the rest of the row too).
    await this.recordings.update(tx, recording.recordingId, {
      status: next.status,
      recordedMs: next.recordedMs,
      segmentStartedAt: next.segmentStartedAt,
      endedAt: next.endedAt,
    });
    const changed = { ...recording, ...next };
    log.recordings.push({ recording: changed, event, at });
    // Completed is told once the file is published (fileFinished), so its RecordingURL works.
    if (event !== 'Completed') await this.writeCallback(tx, log, changed, event, at, mpc);
  }

  private reference(recording: RecordingRow) {
    return {
      recording_id: recording.recordingId,
      recording_url: this.urls.recordingFileUrl(recording.authId, recording.recordingId, recording.fileFormat),
    };
  }

  private async lockedMpc(tx: Queryable, account: AccountRow, ref: MpcRef): Promise<MpcRow> {
    const mpc = await this.calls.findMpc(tx, account.authId, ref, { lock: true });
    if (!mpc) throw new ApiError('not_found', 'multiparty call not found');
    return mpc;
  }

  private async lockedMpcWithLiveRecording(tx: Queryable, account: AccountRow, ref: MpcRef) {
    const found = await this.recordings.lockMpcWithLiveRecording(tx, account.authId, ref);
    if (!found) throw new ApiError('not_found', 'multiparty call not found');
    return found;
  }

  private async activeMpc(tx: Queryable, account: AccountRow, ref: MpcRef): Promise<MpcRow> {
    return assertActive(await this.lockedMpc(tx, account, ref));
  }

  private async presentParticipant(tx: Queryable, mpc: MpcRow, memberId: string): Promise<ParticipantRow> {
    const [participant] = await this.calls.findParticipants(tx, mpc.mpcUuid, [memberId]);
    if (!participant) throw new ApiError('not_found', `member ${memberId} not found in MPC ${mpc.friendlyName}`);
    if (participant.exitedAt) throw new ApiError('invalid_state', `member ${memberId} has left the MPC`);
    return participant;
  }
}

/** What storage does, or, where it fails (a bucket out of reach), a 503 that says so. */
async function storageServing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new ApiError('storage_unavailable', undefined, { cause: error });
  }
}
