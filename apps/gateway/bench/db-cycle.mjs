#!/usr/bin/env node
// What a recording start+stop cycle costs the embedded database, without HTTP or media: the
// gateway's own RecordingsService starts, stops and finishes the file of MPC recordings, one after
// another over 10 MPCs, on a fresh PGlite data directory (3,000 cycles to warm up, then 3,000
// measured). Each cycle is the three transactions of the API bench's cycle: start, stop, file.
// Far steadier than the whole gateway on a shared machine, so it tells database changes apart.
// It also tells how much of that CPU is Postgres itself: the time inside PGlite's calls (the engine
// in WebAssembly, its file system, the WAL writes; they run synchronously), the rest being the
// JavaScript around them.
//
//   node apps/gateway/bench/db-cycle.mjs [cycles] [--json]      (after pnpm build)
//
// --json prints the measured figures as one JSON object instead (the `api` bench reads it).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { CallsRepository } from '../dist/calls/calls.repository.js';
import { PublicUrls } from '../dist/common/public-urls.js';
import { OutboxRepository } from '../dist/callbacks/outbox.repository.js';
import { openDatabase } from '../dist/persistence/database.js';
import { accounts, mpcs } from '../dist/persistence/schema.js';
import { RecordingsRepository } from '../dist/recordings/recordings.repository.js';
import { RecordingsService } from '../dist/recordings/recordings.service.js';
import { FsRecordingStorage } from '../dist/storage/recording-storage.js';

const CYCLES = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 3000);
const JSON_OUTPUT = process.argv.includes('--json');
const MPCS = 10;
const authId = 'MADBCYCLE00000000001';

// Every statement of the gateway reaches Postgres through this one call (see PreparedPglite).
let insideMs = 0;
const execRaw = PGlite.prototype.execProtocolRawStream;
PGlite.prototype.execProtocolRawStream = async function (...args) {
  const started = performance.now();
  try {
    return await execRaw.apply(this, args);
  } finally {
    insideMs += performance.now() - started;
  }
};

const dataDir = mkdtempSync(join(tmpdir(), 'mpc-db-cycle-'));
const database = await openDatabase({ dataDir });
try {
  const [account] = await database.db.insert(accounts).values({ authId, authToken: 'db-cycle-token-0000000001' }).returning();
  const names = Array.from({ length: MPCS }, (_, i) => `db_cycle_${i}`);
  for (const friendlyName of names) {
    await database.db.insert(mpcs).values({
      mpcUuid: randomUUID(),
      authId,
      friendlyName,
      status: 'Active',
      stayAlone: false,
      maxDuration: 14_400,
      maxParticipants: 10,
      createdAt: new Date(),
      startedAt: new Date(),
    });
  }
  const callbacks = { outbox: new OutboxRepository(), wake: () => undefined, check: async () => undefined };
  const service = new RecordingsService(
    database.db,
    new RecordingsRepository(database.concurrent),
    new CallsRepository(),
    new PublicUrls(),
    new FsRecordingStorage(join(dataDir, 'recordings')),
    callbacks,
  );
  const request = { fileFormat: 'mp3', callbackMethod: 'POST' };
  const file = { bytes: 1_440, durationMs: 120, sampleRate: 8_000 };

  const run = async (cycles) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    insideMs = 0;
    for (let i = 0; i < cycles; i++) {
      const ref = { friendlyName: names[i % MPCS] };
      const { recording_id } = await service.startMpcRecording(account, ref, request);
      await service.commandMpcRecording(account, ref, 'stop');
      await service.fileFinished(recording_id, file);
    }
    const { user, system } = process.cpuUsage(cpu);
    return { wallUs: ((performance.now() - started) * 1000) / cycles, cpuUs: (user + system) / cycles, insideUs: (insideMs * 1000) / cycles };
  };

  await run(CYCLES);
  const measured = await run(CYCLES);
  if (JSON_OUTPUT) {
    console.log(JSON.stringify({ cycles: CYCLES, ...measured }));
  } else {
    console.log(
      `${CYCLES} cycles (start, stop, file: 3 transactions, 8 calls into Postgres each) after as many to warm up: ` +
        `${measured.wallUs.toFixed(0)} µs per cycle, ${measured.cpuUs.toFixed(0)} µs of CPU; ` +
        `${measured.insideUs.toFixed(0)} µs of it inside PGlite's calls, ${(measured.cpuUs - measured.insideUs).toFixed(0)} µs around them`,
    );
  }
} finally {
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
}
