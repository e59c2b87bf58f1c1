import { and, asc, eq, inArray, lte, ne, sql } from 'drizzle-orm';
import type { Queryable } from '../persistence/database.js';
import { callbackAttempts, callbackEvents, recordings, type CallbackEventRow } from '../persistence/schema.js';
import { receiverOf } from './receiver.js';

/** An event to write: its receiver is worked out from its URL. */
export type NewCallbackEvent = Omit<typeof callbackEvents.$inferInsert, 'receiver'>;

/** One delivery attempt and where it leaves its event. */
export interface AttemptResult {
  eventId: number;
  attemptedAt: Date;
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: Date;
  finishedAt: Date | null;
}

export class OutboxRepository {
  /** The next SequenceNumber of the recording's callbacks, counted in its row. */
  async nextSequence(db: Queryable, recordingId: string): Promise<number> {
    const [row] = await db
      .update(recordings)
      .set({ callbackSequence: sql`${recordings.callbackSequence} + 1` })
      .where(eq(recordings.recordingId, recordingId))
      .returning({ sequence: recordings.callbackSequence });
    return row!.sequence;
  }

  async insert(db: Queryable, event: NewCallbackEvent): Promise<void> {
    await db.insert(callbackEvents).values({ ...event, receiver: receiverOf(event.url) });
  }

  /**
   * Events due now that are the first pending one of their recording, oldest first: a recording's
   * events go out one at a time, in SequenceNumber order. Those for the `skipped` receivers are left
   * out, so a receiver with all its share of deliveries in flight does not hide everyone else's.
   */
  async due(db: Queryable, now: Date, limit: number, skipped: readonly string[] = []): Promise<CallbackEventRow[]> {
    const first = db
      .selectDistinctOn([callbackEvents.recordingId])
      .from(callbackEvents)
      // A constant, so that prepared statements can keep a plan on the partial index callback_events_due.
      .where(sql`${callbackEvents.status} = 'pending'`)
      .orderBy(callbackEvents.recordingId, asc(callbackEvents.sequenceNumber))
      .as('first');
    const ready = lte(first.nextAttemptAt, now);
    const rows = await db
      .select()
      .from(first)
      .where(skipped.length === 0 ? ready : and(ready, sql`${first.receiver} <> all(${sql.param([...skipped])}::text[])`))
      .orderBy(asc(first.nextAttemptAt), asc(first.id))
      .limit(limit);
    return rows as CallbackEventRow[];
  }

  /** Logs finished attempts and moves their events on, in one statement; logging the same attempts again changes nothing. */
  async recordAttempts(db: Queryable, results: readonly AttemptResult[]): Promise<void> {
    if (results.length === 0) return;
    const column = <T>(pick: (result: AttemptResult) => T) => sql.param(results.map(pick));
    await db.execute(sql`
      with input as (
        select * from unnest(
          ${column((r) => r.eventId)}::bigint[], ${column((r) => r.attemptedAt.toISOString())}::timestamptz[],
          ${column((r) => r.httpStatus)}::integer[], ${column((r) => r.latencyMs)}::integer[], ${column((r) => r.error)}::text[],
          ${column((r) => r.status)}::text[], ${column((r) => r.attempts)}::integer[],
          ${column((r) => r.nextAttemptAt.toISOString())}::timestamptz[], ${column((r) => r.finishedAt?.toISOString() ?? null)}::timestamptz[]
        ) as t(event_id, attempted_at, http_status, latency_ms, error, status, attempts, next_attempt_at, finished_at)
      ), logged as (
        insert into ${callbackAttempts} (event_id, attempted_at, http_status, latency_ms, error)
        select event_id, attempted_at, http_status, latency_ms, error from input
        -- Logged again after a failure that left it unclear whether this was (see the dispatcher's flush): once.
        where not exists (select 1 from ${callbackAttempts} as done where done.event_id = input.event_id and done.attempted_at = input.attempted_at)
      )
      update ${callbackEvents} as event
      set status = input.status, attempts = input.attempts, next_attempt_at = input.next_attempt_at, finished_at = input.finished_at
      from input where event.id = input.event_id`);
    // An event left pending when its recording was deleted goes, with its attempts, once it is done with.
    const finished = results.filter((result) => result.status !== 'pending').map((result) => result.eventId);
    if (finished.length === 0) return;
    await db.execute(sql`
      delete from ${callbackEvents} as event
      where event.id = any(${sql.param(finished)}::bigint[])
        and not exists (select 1 from ${recordings} as recording where recording.recording_id = event.recording_id)`);
  }

  /**
   * Deletes the recording's events that are done with, delivered or failed, and their attempts.
   * Pending ones stay: they may be on their way now, and their attempt is recorded when it ends.
   */
  async deleteFinished(db: Queryable, recordingId: string): Promise<void> {
    await db.delete(callbackEvents).where(and(eq(callbackEvents.recordingId, recordingId), ne(callbackEvents.status, 'pending')));
  }

  async ofRecording(db: Queryable, authId: string, recordingId: string) {
    const events = await db
      .select()
      .from(callbackEvents)
      .where(and(eq(callbackEvents.authId, authId), eq(callbackEvents.recordingId, recordingId)))
      .orderBy(asc(callbackEvents.sequenceNumber));
    const attempts =
      events.length === 0
        ? []
        : await db
            .select()
            .from(callbackAttempts)
            .where(inArray(callbackAttempts.eventId, events.map((event) => event.id)))
            .orderBy(asc(callbackAttempts.id));
    return events.map((event) => ({ event, attempts: attempts.filter((attempt) => attempt.eventId === event.id) }));
  }
}
