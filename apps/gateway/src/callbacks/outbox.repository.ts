import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Queryable } from '../persistence/database.js';
import { callbackAttempts, callbackEvents, recordings, type CallbackEventRow } from '../persistence/schema.js';

export type NewCallbackEvent = typeof callbackEvents.$inferInsert;

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
    await db.insert(callbackEvents).values(event);
  }

  /**
   * Events due now that are the first undelivered one of their recording: a recording's events
   * go out one at a time, in SequenceNumber order.
   */
  async due(db: Queryable, now: Date, limit: number, excluding: readonly string[]): Promise<CallbackEventRow[]> {
    return db
      .select()
      .from(callbackEvents)
      .where(
        and(
          eq(callbackEvents.status, 'pending'),
          lte(callbackEvents.nextAttemptAt, now),
          excluding.length > 0 ? sql`${callbackEvents.recordingId} not in (${sql.join(excluding.map((id) => sql`${id}`), sql`, `)})` : undefined,
          sql`not exists (select 1 from callback_events earlier where earlier.recording_id = ${callbackEvents.recordingId}
                and earlier.sequence_number < ${callbackEvents.sequenceNumber} and earlier.status = 'pending')`,
        ),
      )
      .orderBy(asc(callbackEvents.nextAttemptAt), asc(callbackEvents.id))
      .limit(limit);
  }

  /** Logs the attempt and moves the event on, in one statement (so atomically, without a transaction). */
  async recordAttempt(
    db: Queryable,
    eventId: number,
    attempt: { at: Date; httpStatus: number | null; latencyMs: number; error: string | null },
    next: { status: 'pending' | 'delivered' | 'failed'; attempts: number; nextAttemptAt: Date; finishedAt: Date | null },
  ): Promise<void> {
    await db.execute(sql`
      with logged as (
        insert into ${callbackAttempts} (event_id, attempted_at, http_status, latency_ms, error)
        values (${eventId}, ${attempt.at.toISOString()}, ${attempt.httpStatus}, ${attempt.latencyMs}, ${attempt.error})
      )
      update ${callbackEvents}
      set status = ${next.status}, attempts = ${next.attempts}, next_attempt_at = ${next.nextAttemptAt.toISOString()},
          finished_at = ${next.finishedAt?.toISOString() ?? null}
      where id = ${eventId}`);
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
