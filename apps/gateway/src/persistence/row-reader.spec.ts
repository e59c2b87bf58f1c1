import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { eq, sql } from 'drizzle-orm';
import { pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderedSql, renderedPerShape } from './rendered-sql.js';
import { RowReader, rowsOf } from './row-reader.js';
import * as schema from './schema.js';

const { accounts, mpcs, recordings } = schema;

describe('RowReader: hand-written statements read as the query builder reads them', () => {
  let pglite: PGlite;
  let db: ReturnType<typeof drizzle<typeof schema>>;
  const mpcUuid = randomUUID();
  const mpcRow = new RowReader(mpcs, 'm_');
  const recordingRow = new RowReader(recordings, 'r_');

  const recording = (overrides: Partial<typeof recordings.$inferInsert> = {}): typeof recordings.$inferInsert => ({
    recordingId: randomUUID(),
    authId: 'MA0000000000000000RR',
    mpcUuid,
    scope: 'mpc',
    fileFormat: 'mp3',
    callbackUrl: 'https://example.com/cb?x=1',
    callbackMethod: 'POST',
    status: 'recording',
    addedAt: new Date('2026-11-25T10:00:00.123Z'),
    startedAt: new Date('2026-11-25T10:00:00.123Z'),
    segmentStartedAt: new Date('2026-11-25T10:00:00.456Z'),
    recordedMs: 9_007_199_254, // a bigint column read in number mode
    ...overrides,
  });

  beforeAll(async () => {
    pglite = await PGlite.create();
    db = drizzle(pglite, { schema });
    await migrate(db, { migrationsFolder: fileURLToPath(new URL('../../drizzle', import.meta.url)) });
    await db.insert(accounts).values({ authId: 'MA0000000000000000RR', authToken: 'token-000000000000000000' });
    await db.insert(mpcs).values({
      mpcUuid,
      authId: 'MA0000000000000000RR',
      friendlyName: 'reader',
      status: 'Active',
      stayAlone: true,
      maxDuration: 14_400,
      maxParticipants: 10,
      createdAt: new Date('2026-11-25T09:59:59.999Z'),
    });
  });

  afterAll(() => pglite.close());

  it('inserts with the columns given (defaults for the rest) and reads RETURNING as the builder does', async () => {
    const values = recording();
    const { keys, encoded } = recordingRow.encode(values);
    const [written] = await new RenderedSql(sql`insert into ${recordings} ${recordingRow.valuesOf(keys)} returning ${recordingRow.returning}`).rows(db, encoded);
    const [built] = await db.select().from(recordings).where(eq(recordings.recordingId, values.recordingId));
    expect(recordingRow.read(written!)).toEqual(built);
    expect(built).toMatchObject({ callbackSequence: 0, fileBytes: null, trackType: null, recordedMs: 9_007_199_254 });
  });

  it('updates the columns given', async () => {
    const values = recording({ status: 'completed', segmentStartedAt: null });
    await db.insert(recordings).values(values);
    const update = renderedPerShape(
      (keys: string[]) => keys.join(),
      (keys) => sql`update ${recordings} set ${recordingRow.assignments(keys)} where ${recordings.recordingId} = ${sql.placeholder('target')}`,
    );
    const { keys, encoded } = recordingRow.encode({ fileBytes: 1234, sampleRate: 16000, endedAt: new Date('2026-11-25T11:00:00Z'), failureReason: undefined });
    expect(keys).toEqual(['endedAt', 'fileBytes', 'sampleRate']);
    await update(keys).rows(db, { ...encoded, target: values.recordingId });
    const [row] = await db.select().from(recordings).where(eq(recordings.recordingId, values.recordingId));
    expect(row).toMatchObject({ fileBytes: 1234, sampleRate: 16000, endedAt: new Date('2026-11-25T11:00:00Z'), status: 'completed' });
    // The same shape is the same statement; null is a value, not a column left out.
    expect(update(keys)).toBe(update(['endedAt', 'fileBytes', 'sampleRate']));
    const cleared = recordingRow.encode({ fileBytes: null, sampleRate: 8000, endedAt: null });
    await update(cleared.keys).rows(db, { ...cleared.encoded, target: values.recordingId });
    const [after] = await db.select().from(recordings).where(eq(recordings.recordingId, values.recordingId));
    expect(after).toMatchObject({ fileBytes: null, sampleRate: 8000, endedAt: null });
  });

  it('reads both sides of a join, and null for the side that found nothing', async () => {
    const select = (scope: 'mpc' | 'participant') =>
      db.execute(
        sql`select ${mpcRow.columns}, ${recordingRow.columns} from ${mpcs}
            left join ${recordings} on ${recordings.mpcUuid} = ${mpcs.mpcUuid} and ${recordings.scope} = ${scope} and ${recordings.status} = 'recording'
            where ${mpcs.mpcUuid} = ${mpcUuid}`,
      );
    const [mpc] = await db.select().from(mpcs).where(eq(mpcs.mpcUuid, mpcUuid));
    const [live] = await db.select().from(recordings).where(sql`${recordings.status} = 'recording'`);
    const [found] = rowsOf(await select('mpc'));
    expect(mpcRow.read(found!)).toEqual(mpc);
    expect(recordingRow.readJoined(found!)).toEqual(live);
    const [none] = rowsOf(await select('participant'));
    expect(mpcRow.read(none!)).toEqual(mpc);
    expect(recordingRow.readJoined(none!)).toBeNull();
  });

  it('refuses a table with values computed in JavaScript, which it would leave out', () => {
    const stamped = pgTable('stamped', { id: uuid('id').primaryKey().$defaultFn(() => randomUUID()), note: text('note') });
    expect(() => new RowReader(stamped)).toThrow(/stamped: id take values computed in JavaScript/);
  });
});
