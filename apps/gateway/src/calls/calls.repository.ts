import type { MpcRef } from '@mpc/contracts';
import { and, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, ne, sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { TimeRange } from '../common/time-range.js';
import type { Queryable } from '../persistence/database.js';
import { mpcs, participants, type MpcRow, type ParticipantRow } from '../persistence/schema.js';

export type NewMpc = typeof mpcs.$inferInsert;
export type NewParticipant = typeof participants.$inferInsert;

export interface MpcListFilter {
  friendlyName?: string;
  status?: MpcRow['status'];
  terminationCauseCode?: number;
  creation: TimeRange;
  end: TimeRange;
  limit: number;
  offset: number;
}

// A constant, not a parameter, so that prepared statements can keep a plan on the partial index mpcs_live_name.
const notEnded = sql`${mpcs.status} <> 'Ended'`;

/** The account's MPC a path names: by UUID any of them, by friendly name only a live one. Values may be placeholders. */
export function mpcNamed(authId: string | Placeholder, ref: MpcRef | { uuid: Placeholder } | { friendlyName: Placeholder }): SQL | undefined {
  return 'uuid' in ref
    ? and(eq(mpcs.authId, authId), eq(mpcs.mpcUuid, ref.uuid))
    : and(eq(mpcs.authId, authId), eq(mpcs.friendlyName, ref.friendlyName), notEnded);
}

/** `column = value`, or no condition when the filter was not given. */
export function equalsIfGiven<T>(column: Parameters<typeof eq>[0], value: T | undefined): SQL | undefined {
  return value === undefined ? undefined : eq(column, value);
}

export function rangeConditions(column: Parameters<typeof gt>[0], range: TimeRange): SQL[] {
  return [
    range.gt && gt(column, range.gt),
    range.gte && gte(column, range.gte),
    range.lt && lt(column, range.lt),
    range.lte && lte(column, range.lte),
  ].filter((condition): condition is SQL => condition !== undefined);
}

/**
 * Recording status of each MPC's live MPC-level recording, for the MPC object's `recording` field.
 * Written with qualified names: drizzle leaves columns unqualified in single-table selects, and an
 * unqualified mpc_uuid inside the subquery would name the recording's own column.
 */
const liveRecordingStatus = sql<'recording' | 'paused' | null>`(
  select live.status from recordings live
  where live.mpc_uuid = "mpcs"."mpc_uuid" and live.scope = 'mpc' and live.status in ('recording', 'paused')
  limit 1)`;

export type MpcWithRecording = MpcRow & { recording: 'recording' | 'paused' | null };

export class CallsRepository {
  /** The MPC a path names: a friendly name finds only a live MPC, a UUID any of the account's. */
  async findMpc(db: Queryable, authId: string, ref: MpcRef, options: { lock?: boolean } = {}): Promise<MpcRow | undefined> {
    const query = db.select().from(mpcs).where(mpcNamed(authId, ref));
    const [row] = options.lock ? await query.for('update') : await query;
    return row;
  }

  async findMpcByUuid(db: Queryable, mpcUuid: string, options: { lock?: boolean } = {}): Promise<MpcRow | undefined> {
    const query = db.select().from(mpcs).where(eq(mpcs.mpcUuid, mpcUuid));
    const [row] = options.lock ? await query.for('update') : await query;
    return row;
  }

  async findMpcWithRecording(db: Queryable, authId: string, ref: MpcRef): Promise<MpcWithRecording | undefined> {
    const mpc = await this.findMpc(db, authId, ref);
    if (!mpc) return undefined;
    const [row] = await db.select({ recording: liveRecordingStatus }).from(mpcs).where(eq(mpcs.mpcUuid, mpc.mpcUuid));
    return { ...mpc, recording: row?.recording ?? null };
  }

  /** Inserts the MPC unless a live one has its name; answers undefined when one does. */
  async insertMpc(db: Queryable, mpc: NewMpc): Promise<MpcRow | undefined> {
    const [row] = await db.insert(mpcs).values(mpc).onConflictDoNothing().returning();
    return row;
  }

  /** Live MPCs past their max_duration, counted from creation. */
  async overdueMpcs(db: Queryable, now: Date): Promise<MpcRow[]> {
    return db
      .select()
      .from(mpcs)
      .where(and(ne(mpcs.status, 'Ended'), sql`${mpcs.createdAt} + make_interval(secs => ${mpcs.maxDuration}) <= ${now.toISOString()}`));
  }

  async updateMpc(db: Queryable, mpcUuid: string, patch: Partial<NewMpc>): Promise<void> {
    await db.update(mpcs).set(patch).where(eq(mpcs.mpcUuid, mpcUuid));
  }

  async listMpcs(db: Queryable, authId: string, filter: MpcListFilter): Promise<{ rows: MpcWithRecording[]; total: number }> {
    const condition = and(
      eq(mpcs.authId, authId),
      equalsIfGiven(mpcs.friendlyName, filter.friendlyName),
      equalsIfGiven(mpcs.status, filter.status),
      equalsIfGiven(mpcs.terminationCauseCode, filter.terminationCauseCode),
      ...rangeConditions(mpcs.createdAt, filter.creation),
      ...rangeConditions(mpcs.endedAt, filter.end),
    );
    // The page first, then its live recordings: an offset passes MPCs without looking theirs up.
    const newestFirst = [desc(mpcs.createdAt), desc(mpcs.mpcUuid)];
    const page = db.select({ mpcUuid: mpcs.mpcUuid }).from(mpcs).where(condition).orderBy(...newestFirst).limit(filter.limit).offset(filter.offset).as('page');
    const [rows, total] = await Promise.all([
      db
        .select({ mpc: mpcs, recording: liveRecordingStatus })
        .from(page)
        .innerJoin(mpcs, eq(mpcs.mpcUuid, page.mpcUuid))
        .orderBy(...newestFirst),
      db.$count(mpcs, condition),
    ]);
    return { rows: rows.map(({ mpc, recording }) => ({ ...mpc, recording })), total };
  }

  async presentParticipants(db: Queryable, mpcUuid: string): Promise<ParticipantRow[]> {
    return db
      .select()
      .from(participants)
      .where(and(eq(participants.mpcUuid, mpcUuid), isNull(participants.exitedAt)))
      .orderBy(participants.memberId);
  }

  async listParticipants(db: Queryable, mpcUuid: string, callUuid?: string): Promise<ParticipantRow[]> {
    return db
      .select()
      .from(participants)
      .where(and(eq(participants.mpcUuid, mpcUuid), equalsIfGiven(participants.callUuid, callUuid)))
      .orderBy(participants.memberId);
  }

  async findParticipants(db: Queryable, mpcUuid: string, memberIds: 'all' | string[]): Promise<ParticipantRow[]> {
    return db
      .select()
      .from(participants)
      .where(
        and(
          eq(participants.mpcUuid, mpcUuid),
          memberIds === 'all' ? isNull(participants.exitedAt) : inArray(participants.memberId, memberIds.map(Number)),
        ),
      )
      .orderBy(participants.memberId);
  }

  async findPresentCall(db: Queryable, callUuid: string): Promise<ParticipantRow | undefined> {
    const [row] = await db
      .select()
      .from(participants)
      .where(and(eq(participants.callUuid, callUuid), isNull(participants.exitedAt)));
    return row;
  }

  /** Participants still present whose media stream had joined: after a restart, streams that are gone. */
  async presentStreamed(db: Queryable): Promise<ParticipantRow[]> {
    return db
      .select()
      .from(participants)
      .where(and(isNull(participants.exitedAt), isNotNull(participants.streamedAt)))
      .orderBy(participants.memberId);
  }

  async insertParticipant(db: Queryable, participant: NewParticipant): Promise<ParticipantRow> {
    const [row] = await db.insert(participants).values(participant).returning();
    return row!;
  }

  async updateParticipants(db: Queryable, memberIds: number[], patch: Partial<NewParticipant>): Promise<void> {
    if (memberIds.length === 0) return;
    await db.update(participants).set(patch).where(inArray(participants.memberId, memberIds));
  }
}
