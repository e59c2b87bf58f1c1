import type { FileFormat } from '@mpc/contracts';
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const moment = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });

export const accounts = pgTable('accounts', {
  authId: text('auth_id').primaryKey(),
  authToken: text('auth_token').notNull(),
  createdAt: moment('created_at').notNull().defaultNow(),
});

/** What a recording is asked for with: its format and where its callbacks go. */
export interface RecordingRequest {
  fileFormat: FileFormat;
  callbackUrl?: string;
  callbackMethod: 'GET' | 'POST';
}

/** A recording asked for with `record` on add participant, waiting for the MPC to be active with enough participants. */
export interface RecordOnJoin extends RecordingRequest {
  minMembers: number;
}

export const mpcs = pgTable(
  'mpcs',
  {
    mpcUuid: uuid('mpc_uuid').primaryKey(),
    authId: text('auth_id')
      .notNull()
      .references(() => accounts.authId),
    friendlyName: text('friendly_name').notNull(),
    status: text('status', { enum: ['Initialized', 'Active', 'Ended'] }).notNull(),
    stayAlone: boolean('stay_alone').notNull(),
    maxDuration: integer('max_duration').notNull(),
    maxParticipants: integer('max_participants').notNull(),
    createdAt: moment('created_at').notNull(),
    startedAt: moment('started_at'),
    endedAt: moment('ended_at'),
    terminationCauseCode: integer('termination_cause_code'),
    recordOnJoin: jsonb('record_on_join').$type<RecordOnJoin>(),
  },
  (table) => [
    // Friendly names are unique per account among live MPCs only.
    uniqueIndex('mpcs_live_name').on(table.authId, table.friendlyName).where(sql`${table.status} <> 'Ended'`),
    index('mpcs_account_created').on(table.authId, table.createdAt),
  ],
);

export const participants = pgTable(
  'participants',
  {
    memberId: bigserial('member_id', { mode: 'number' }).primaryKey(),
    mpcUuid: uuid('mpc_uuid')
      .notNull()
      .references(() => mpcs.mpcUuid),
    callUuid: text('call_uuid').notNull(),
    role: text('role', { enum: ['Agent', 'Supervisor', 'Customer', 'AI-Agent'] }).notNull(),
    fromNumber: text('from_number'),
    toNumber: text('to_number'),
    coachMode: boolean('coach_mode').notNull(),
    mute: boolean('mute').notNull(),
    hold: boolean('hold').notNull(),
    startMpcOnEnter: boolean('start_mpc_on_enter').notNull(),
    endMpcOnExit: boolean('end_mpc_on_exit').notNull(),
    stayAlone: boolean('stay_alone').notNull(),
    joinedAt: moment('joined_at').notNull(),
    exitedAt: moment('exited_at'),
    exitCause: text('exit_cause'),
    /** When its media stream last joined: a participant present with one had its stream open. */
    streamedAt: moment('streamed_at'),
  },
  (table) => [
    index('participants_mpc').on(table.mpcUuid),
    // A call leg is in at most one MPC at a time.
    uniqueIndex('participants_present_call').on(table.callUuid).where(sql`${table.exitedAt} is null`),
  ],
);

export const recordings = pgTable(
  'recordings',
  {
    recordingId: uuid('recording_id').primaryKey(),
    authId: text('auth_id')
      .notNull()
      .references(() => accounts.authId),
    mpcUuid: uuid('mpc_uuid')
      .notNull()
      .references(() => mpcs.mpcUuid),
    memberId: bigint('member_id', { mode: 'number' }).references(() => participants.memberId),
    scope: text('scope', { enum: ['mpc', 'participant'] }).notNull(),
    trackType: text('track_type', { enum: ['participant', 'all'] }),
    fileFormat: text('file_format', { enum: ['mp3', 'wav'] }).notNull(),
    callbackUrl: text('callback_url'),
    callbackMethod: text('callback_method', { enum: ['GET', 'POST'] }).notNull(),
    status: text('status', { enum: ['recording', 'paused', 'completed', 'failed'] }).notNull(),
    addedAt: moment('added_at').notNull(),
    startedAt: moment('started_at').notNull(),
    endedAt: moment('ended_at'),
    /** Recorded time of the segments already closed by a pause or a stop. */
    recordedMs: bigint('recorded_ms', { mode: 'number' }).notNull().default(0),
    /** Start of the segment being recorded now; null while paused or ended. */
    segmentStartedAt: moment('segment_started_at'),
    failureReason: text('failure_reason'),
    /** SequenceNumber of the last callback event written for this recording. */
    callbackSequence: integer('callback_sequence').notNull().default(0),
    /** Set when the file is published. */
    fileBytes: bigint('file_bytes', { mode: 'number' }),
    sampleRate: integer('sample_rate'),
  },
  (table) => [
    index('recordings_account_added').on(table.authId, table.addedAt),
    // At most one live recording per MPC, and per participant and track type.
    uniqueIndex('recordings_live_mpc')
      .on(table.mpcUuid)
      .where(sql`${table.scope} = 'mpc' and ${table.status} in ('recording', 'paused')`),
    uniqueIndex('recordings_live_participant')
      .on(table.memberId, table.trackType)
      .where(sql`${table.scope} = 'participant' and ${table.status} in ('recording', 'paused')`),
  ],
);

/** The transactional outbox: each callback event, written with the state change that caused it. */
export const callbackEvents = pgTable(
  'callback_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    recordingId: uuid('recording_id').notNull(),
    authId: text('auth_id').notNull(),
    sequenceNumber: integer('sequence_number').notNull(),
    eventName: text('event_name').notNull(),
    /** The URL as registered, fragment included: the fragment holds the retry rules. */
    url: text('url').notNull(),
    /** Where the URL goes, for the cap on deliveries in flight to one receiver (see receiverOf). */
    receiver: text('receiver').notNull(),
    method: text('method', { enum: ['GET', 'POST'] }).notNull(),
    params: jsonb('params').$type<Record<string, string>>().notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: moment('next_attempt_at').notNull(),
    createdAt: moment('created_at').notNull(),
    finishedAt: moment('finished_at'),
  },
  (table) => [
    uniqueIndex('callback_events_sequence').on(table.recordingId, table.sequenceNumber),
    index('callback_events_due').on(table.nextAttemptAt).where(sql`${table.status} = 'pending'`),
  ],
);

export const callbackAttempts = pgTable(
  'callback_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => callbackEvents.id, { onDelete: 'cascade' }),
    attemptedAt: moment('attempted_at').notNull(),
    httpStatus: integer('http_status'),
    latencyMs: integer('latency_ms').notNull(),
    error: text('error'),
  },
  (table) => [index('callback_attempts_event').on(table.eventId)],
);

export type CallbackEventRow = typeof callbackEvents.$inferSelect;

export type AccountRow = typeof accounts.$inferSelect;
export type MpcRow = typeof mpcs.$inferSelect;
export type ParticipantRow = typeof participants.$inferSelect;
export type RecordingRow = typeof recordings.$inferSelect;
