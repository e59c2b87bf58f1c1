#!/usr/bin/env node
// Diagnostic for the `callbacks` scenario (not run by `pnpm bench`): what the dispatcher's queries
// cost on the embedded database as the outbox grows. Opens PGlite in a temp dir with the gateway's
// migrations, fills callback_events like the throughput run (RECORDINGS recordings, events spread
// evenly, all pending), and times, with the built OutboxRepository (dist/):
//   - due(now, 1, 63 recordings in flight)  — what every wake-up after a finished delivery runs
//   - due(now, 64, none)                    — a poll with every slot free
//   - recordAttempt                         — one per delivery
//   - select 1                              — the floor of a round trip through drizzle + PGlite
// and prints EXPLAIN ANALYZE of the first query. Then it drains the largest backlog the way the
// dispatcher does, minus the HTTP (64 events "in flight"; each time the oldest one finishes,
// recordAttempt(delivered) and due(now, free slots, recordings in flight)): the ceiling the
// database puts on deliveries/s; and the same with claims and attempt logs batched, for
// comparison. Usage (after pnpm build):
//   node apps/gateway/bench/callbacks/outbox-queries.mjs [pendingEvents...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { GATEWAY_DIR } from '../lib/gateway.mjs';
import { summarise } from '../lib/load.mjs';

const RECORDINGS = 80;
const IN_FLIGHT = 63;
const REPEAT = 60;
const CONCURRENCY = 64;
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const backlogs = sizes.length ? sizes : [3000, 1500, 500, 100];

const schema = await import(join(GATEWAY_DIR, 'dist/persistence/schema.js'));
const { OutboxRepository } = await import(join(GATEWAY_DIR, 'dist/callbacks/outbox.repository.js'));

const dir = mkdtempSync(join(tmpdir(), 'mpc-outbox-'));
let client;
try {
  client = await PGlite.create(join(dir, 'pgdata'));
  let lastQuery = null;
  const db = drizzle(client, { schema, logger: { logQuery: (query, params) => (lastQuery = { query, params }) } });
  await migrate(db, { migrationsFolder: join(GATEWAY_DIR, 'drizzle') });
  const outbox = new OutboxRepository();
  const recordings = Array.from({ length: RECORDINGS }, () => randomUUID());
  const time = async (work) => {
    const samples = [];
    for (let i = 0; i < REPEAT; i++) {
      const started = performance.now();
      await work(i);
      samples.push(performance.now() - started);
    }
    return summarise(samples);
  };

  const fill = async (pending) => {
    await client.exec('truncate callback_attempts, callback_events restart identity cascade');
    // Events in creation order, round-robin over the recordings, like pause/resume cycles.
    const base = Date.now() - 60_000;
    const params = { EventName: 'MPCRecordingPaused', RecordingUUID: 'x', SequenceNumber: '1', EventTimestamp: '2026-01-01 00:00:00+00:00' };
    for (let start = 0; start < pending; start += 500) {
      const rows = [];
      for (let i = start; i < Math.min(pending, start + 500); i++) {
        const at = new Date(base + i);
        rows.push({
          recordingId: recordings[i % RECORDINGS],
          authId: 'MABENCH0000000000001',
          sequenceNumber: Math.floor(i / RECORDINGS) + 1,
          eventName: 'MPCRecordingPaused',
          url: 'http://127.0.0.1:9/cb',
          method: 'POST',
          params,
          nextAttemptAt: at,
          createdAt: at,
        });
      }
      await db.insert(schema.callbackEvents).values(rows);
    }
    await client.exec('analyze callback_events');
  };

  for (const pending of backlogs) {
    await fill(pending);
    const excluding = recordings.slice(0, IN_FLIGHT);
    const now = new Date();
    const dueOne = await time(() => outbox.due(db, now, 1, excluding));
    const dueQuery = lastQuery;
    const dueAll = await time(() => outbox.due(db, now, 64, []));
    const [first] = await outbox.due(db, now, 1, []);
    const attempt = await time(() =>
      outbox.recordAttempt(db, first.id, { at: new Date(), httpStatus: 200, latencyMs: 1, error: null }, { status: 'pending', attempts: 0, nextAttemptAt: first.nextAttemptAt, finishedAt: null }),
    );
    const floor = await time(() => db.execute(sql`select 1`));
    process.stdout.write(
      `pending ${pending} over ${RECORDINGS} recordings (ms, p50 / p99 of ${REPEAT}):\n` +
        `  due(limit 1, ${IN_FLIGHT} in flight)  ${dueOne.p50} / ${dueOne.p99}\n` +
        `  due(limit 64, none in flight) ${dueAll.p50} / ${dueAll.p99}\n` +
        `  recordAttempt                 ${attempt.p50} / ${attempt.p99}\n` +
        `  select 1                      ${floor.p50} / ${floor.p99}\n`,
    );
    if (pending === backlogs[0] && dueQuery) {
      const plan = await client.query(`explain (analyze, costs off) ${dueQuery.query}`, dueQuery.params);
      process.stdout.write(`  plan of due(limit 1, ${IN_FLIGHT} in flight):\n${plan.rows.map((row) => `    ${row['QUERY PLAN']}`).join('\n')}\n`);
    }
  }

  // The dispatcher's database work for a drain, with deliveries that take no time:
  //  - "as the dispatcher": after every finished delivery, log it and poll for the free slot;
  //  - "claim in batches": poll only once BATCH slots are free (or nothing is in flight);
  //  - "claim and log in batches": the same, and log BATCH finished deliveries in one statement.
  const pending = Math.max(...backlogs);
  const BATCH = 16;
  const drain = async (label, { claimAt, logBatch }) => {
    await fill(pending);
    const inFlight = new Map(); // recording -> event, oldest first
    const claim = async () => {
      for (const event of await outbox.due(db, new Date(), CONCURRENCY - inFlight.size, [...inFlight.keys()])) {
        if (!inFlight.has(event.recordingId)) inFlight.set(event.recordingId, event);
      }
    };
    await claim();
    let done = 0;
    let polls = 0;
    const finished = [];
    const started = performance.now();
    while (inFlight.size > 0) {
      const [recordingId, event] = inFlight.entries().next().value;
      inFlight.delete(recordingId);
      finished.push(event);
      if (!logBatch || finished.length >= BATCH || inFlight.size === 0) {
        if (logBatch) await logMany(finished.splice(0));
        else await outbox.recordAttempt(db, finished.pop().id, { at: new Date(), httpStatus: 200, latencyMs: 1, error: null }, { status: 'delivered', attempts: 1, nextAttemptAt: new Date(), finishedAt: new Date() });
      }
      if (CONCURRENCY - inFlight.size >= claimAt || inFlight.size === 0) {
        if (logBatch && finished.length) await logMany(finished.splice(0));
        await claim();
        polls++;
      }
      done++;
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`  ${label.padEnd(28)} ${done} in ${seconds.toFixed(2)} s = ${Math.round(done / seconds)} deliveries/s (${polls} polls)\n`);
  };
  /** Logs several delivered events in one statement (what a batching dispatcher could do). */
  const logMany = async (events) => {
    const ids = events.map((event) => event.id);
    const at = new Date().toISOString();
    await client.query(
      `with logged as (
         insert into callback_attempts (event_id, attempted_at, http_status, latency_ms, error)
         select id, $2::timestamptz, 200, 1, null from unnest($1::bigint[]) as id
       )
       update callback_events set status = 'delivered', attempts = attempts + 1, finished_at = $2::timestamptz
       where id = any($1::bigint[])`,
      [ids, at],
    );
  };
  process.stdout.write(`database-only drain of ${pending} events over ${RECORDINGS} recordings, ${CONCURRENCY} in flight:\n`);
  await drain('as the dispatcher', { claimAt: 1, logBatch: false });
  await drain(`claim in batches of ${BATCH}`, { claimAt: BATCH, logBatch: false });
  await drain(`claim and log in batches`, { claimAt: BATCH, logBatch: true });
} finally {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
}
