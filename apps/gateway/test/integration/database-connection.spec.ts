import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiOf, okApiOf } from '../support/api.js';
import { snapshotDatabase, startTestGateway, type TestGateway } from '../support/gateway.js';
import { decodeRecording, tonePresence } from '../support/audio.js';
import { ToneStream } from '../support/stream-sender.js';

const onServer = process.env.MPC_TEST_DB === 'postgres';

/** Runs `during` while the server refuses the gateway's database any connection, and has cut those it had. */
async function withConnectionsRefused(gateway: TestGateway, during: () => Promise<void>): Promise<void> {
  const database = new URL(gateway.database.location).pathname.slice(1);
  const admin = new pg.Client({ connectionString: process.env.MPC_TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`alter database ${database} allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
    await during();
  } finally {
    await admin.query(`alter database ${database} allow_connections true`);
    await admin.end();
  }
}

describe.skipIf(!onServer)('a PostgreSQL server dropping idle connections', () => {
  let gateway: TestGateway;
  const logged: { level: number; msg: string }[] = [];
  const api = okApiOf(() => gateway);

  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    gateway = await startTestGateway({}, undefined, { logger });
  });
  afterAll(() => gateway?.stop());

  /**
   * A participant of the MPC, streaming a tone, once its stream has joined: the MPC is active from
   * the add on, but the stream's join reads the database, and a join an outage cuts is refused, with
   * no hangup. Answers the MPC's uuid too: an MPC that ended is no longer found by its name.
   */
  async function streamingParticipant(mpc: string, { frequency = 440, streamsThen = 1 } = {}) {
    const added = await api('POST', `MultiPartyCall/${mpc}/Participant/`, { role: 'Agent', from: '+15550100', to: '+15550103' });
    const stream = new ToneStream({ url: added.calls[0].stream_url, framing: 'plivo-mulaw', frequency });
    await stream.start();
    const recorderSources = async () => (await (await fetch(`${gateway.url}/health/metrics`)).json()).recorder.sources;
    await expect.poll(recorderSources, { timeout: 15_000 }).toBe(streamsThen);
    const { mpc_uuid: mpcUuid } = await api('GET', `MultiPartyCall/${mpc}/`);
    return { stream, mpcUuid: mpcUuid as string };
  }

  it('keeps the gateway up: the loss is logged and the next request opens a new connection', async () => {
    await Promise.all(Array.from({ length: 4 }, (_, index) => api('POST', `MultiPartyCall/name_idle_${index}/Participant/`, { role: 'Agent', call_uuid: `idle-${index}` })));
    const database = new URL(gateway.database.location).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.MPC_TEST_DATABASE_URL });
    await admin.connect();
    // The pool's connections; the one that holds the database for the gateway has its own test.
    const terminated = await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and application_name not like 'mpc-gateway pid %'`,
      [database],
    );
    await admin.end();
    expect(terminated.rowCount).toBeGreaterThan(0);

    // Each idle connection hears of its end on its own; a request given one not yet told would fail.
    const lost = () => logged.filter((line) => line.msg.includes('database connection lost')).length;
    await expect.poll(lost, { timeout: 5000 }).toBe(terminated.rowCount);
    const listed = await api('GET', 'MultiPartyCall/');
    expect(listed.meta.count).toBe(4);
  });

  it('answers 503 in Plivo\'s body while the server refuses connections, changes nothing, and serves again once it takes them', async () => {
    const added = await api('POST', 'MultiPartyCall/name_refused/Participant/', { role: 'Agent', from: '+15550100', to: '+15550101' });
    const before = await snapshotDatabase(gateway);
    await withConnectionsRefused(gateway, async () => {
      const attempts = [
        ['POST', 'MultiPartyCall/name_refused/Record/', { file_format: 'mp3' }],
        ['GET', 'MultiPartyCall/name_refused/', undefined],
        // An account not yet read from the database: authentication itself cannot be done.
        ['POST', 'MultiPartyCall/name_refused/Record/', { file_format: 'wav' }, `Basic ${Buffer.from('MAUNKNOWN00000000000:nope').toString('base64')}`],
      ] as const;
      for (const [method, path, body, authorization] of attempts) {
        const response = await fetch(`${gateway.api}/${path}`, {
          method,
          headers: { authorization: authorization ?? gateway.auth, ...(body && { 'content-type': 'application/json' }) },
          body: body && JSON.stringify(body),
        });
        expect(response.status, `${method} ${path}`).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(await response.json()).toEqual({ api_id: expect.any(String), error: 'the database cannot be reached; try again shortly' });
      }
      // A stream is told to come again later: by its handshake where the MPC's id is its uuid (its
      // name, which places it, must be read), by a close code once in a media shard otherwise.
      const streamUrl: string = added.calls[0].stream_url;
      expect(streamUrl).toMatch(/\/uuid_[^/]+\//);
      const byUuid = new ToneStream({ url: streamUrl, framing: 'plivo-mulaw', frequency: 440 });
      await expect(byUuid.opened).rejects.toThrow('Unexpected server response: 503');
      const byName = new ToneStream({ url: streamUrl.replace(/\/uuid_[^/]+\//, '/name_refused/'), framing: 'plivo-mulaw', frequency: 440 });
      await byName.start();
      expect(await byName.closed).toEqual({ code: 1013, reason: 'the database cannot be reached; try again shortly' });
      byName.stop();
    });
    expect(await snapshotDatabase(gateway)).toEqual(before);
    const started = await api('POST', 'MultiPartyCall/name_refused/Record/', { file_format: 'mp3' });
    expect(started.recording_id).toEqual(expect.any(String));
    // An outage is the database's failure, not the gateway's: warnings, and a task that ran into
    // it (the outage may be shorter than their rounds) says so once.
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);
    for (const task of ['callback poll', 'ending overdue MPCs']) {
      expect(logged.filter((line) => line.msg.startsWith(`${task} waits`)).length, task).toBeLessThanOrEqual(1);
    }
  });

  it('records a hangup made while the server refuses connections at the time it was made', async () => {
    const { stream, mpcUuid } = await streamingParticipant('name_hangup_refused');
    let hangingUp = 0;
    let hungUp = 0;
    await withConnectionsRefused(gateway, async () => {
      hangingUp = Date.now();
      await stream.hangup();
      hungUp = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 3000));
    });
    const ended = async () => (await api('GET', `MultiPartyCall/uuid_${mpcUuid}/`)).end_time;
    await expect.poll(ended, { timeout: 15_000 }).not.toBeNull();
    // Within the hangup, to the second (Plivo's timestamps are); the database took it 3 s or more later.
    const endedAt = Date.parse(await ended());
    expect(endedAt).toBeGreaterThanOrEqual(Math.floor(hangingUp / 1000) * 1000);
    expect(endedAt).toBeLessThanOrEqual(hungUp);
    const [participant] = (await api('GET', `MultiPartyCall/uuid_${mpcUuid}/Participant/`)).objects;
    expect(participant.exit_time).toBe(await ended());
  });

  it('ends a recording the hangup stopped where the hangup was made, the silence of the outage left out', async () => {
    const { stream, mpcUuid } = await streamingParticipant('name_hangup_recorded');
    const askedAt = performance.now();
    const started = await api('POST', 'MultiPartyCall/name_hangup_recorded/Record/', { file_format: 'wav' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let toneMs = 0;
    await withConnectionsRefused(gateway, async () => {
      await stream.hangup();
      toneMs = performance.now() - askedAt;
      await new Promise((resolve) => setTimeout(resolve, 3000));
    });
    const recording = async () => api('GET', `Recording/${started.recording_id}/`);
    await expect.poll(async () => (await recording()).sample_rate, { timeout: 15_000 }).not.toBeNull();
    const { recording_duration_ms: durationMs, recording_end_ms: endMs } = await recording();
    // The outage held the hangup 3 s or more: before, the file ran on, silent, until it landed.
    expect(Number(durationMs)).toBeGreaterThan(800);
    expect(Number(durationMs)).toBeLessThan(toneMs + 100);
    const { end_time: mpcEnd } = await api('GET', `MultiPartyCall/uuid_${mpcUuid}/`);
    expect(Math.abs(Number(endMs) - Date.parse(mpcEnd))).toBeLessThan(1000);
    const audio = decodeRecording(Buffer.from(await (await fetch(started.recording_url)).arrayBuffer()), 'wav');
    expect(Math.abs(audio.durationMs - Number(durationMs))).toBeLessThan(5);
    // The tone runs to the end: what the jitter window had yet to mix when the stream closed.
    expect(tonePresence(audio, 440, audio.durationMs - 300, audio.durationMs - 100)).not.toContain(false);
  });

  it('ends a recording where its file ends when another stream went on into it after a late hangup', async () => {
    const leaver = await streamingParticipant('name_hangup_pair');
    const stayer = await streamingParticipant('name_hangup_pair', { frequency: 660, streamsThen: 2 });
    const started = await api('POST', 'MultiPartyCall/name_hangup_pair/Record/', { file_format: 'wav' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await withConnectionsRefused(gateway, async () => {
      await leaver.stream.hangup();
      await new Promise((resolve) => setTimeout(resolve, 3000));
    });
    const recording = async () => api('GET', `Recording/${started.recording_id}/`);
    await expect.poll(async () => (await recording()).sample_rate, { timeout: 15_000 }).not.toBeNull();
    stayer.stream.stop();
    const { recording_duration_ms: durationMs, recording_start_ms: startMs, recording_end_ms: endMs } = await recording();
    // The other participant's tone went on into the file until the hangup landed and ended the MPC.
    expect(Number(durationMs)).toBeGreaterThan(3500);
    expect(Math.abs(Number(endMs) - Number(startMs) - Number(durationMs))).toBeLessThan(5);
    const audio = decodeRecording(Buffer.from(await (await fetch(started.recording_url)).arrayBuffer()), 'wav');
    expect(Math.abs(audio.durationMs - Number(durationMs))).toBeLessThan(5);
    expect(tonePresence(audio, 660, audio.durationMs - 300, audio.durationMs - 100)).not.toContain(false);
  });
});

describe.skipIf(!onServer)('a PostgreSQL server cutting connections in the middle of transactions', () => {
  let gateway: TestGateway | undefined;
  const api = okApiOf(() => gateway!);
  const call = apiOf(() => gateway!);
  afterAll(() => gateway?.stop());

  it('stays up and keeps its pool: each request answers as usual or with 503, and every connection is given back', async () => {
    gateway = await startTestGateway();
    const mpcs = Array.from({ length: 6 }, (_, index) => `name_cut_${index}`);
    for (const mpc of mpcs) await api('POST', `MultiPartyCall/${mpc}/Participant/`, { role: 'Agent', call_uuid: `cut-${mpc.slice(-1)}` });
    const database = new URL(gateway.database.location).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.MPC_TEST_DATABASE_URL });
    await admin.connect();
    const statuses = new Map<number, number>();
    const refusals = new Set<string>();
    let cutting = true;
    const cycles = mpcs.map(async (mpc) => {
      while (cutting) {
        for (const [method, body] of [['POST', { file_format: 'wav' }], ['DELETE', undefined]] as const) {
          const answer = await call(method, `MultiPartyCall/${mpc}/Record/`, body);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status === 400) refusals.add(answer.body.error);
        }
      }
    });
    try {
      for (let cut = 0; cut < 20; cut += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
      }
    } finally {
      cutting = false;
      await Promise.all(cycles);
      await admin.end();
    }
    const answered = Object.fromEntries(statuses);
    expect(Object.keys(answered).map(Number).every((status) => [202, 204, 400, 503].includes(status)), JSON.stringify(answered)).toBe(true);
    expect(answered[503], JSON.stringify(answered)).toBeGreaterThan(0);
    // A stop after its start was refused finds nothing to stop.
    for (const refusal of refusals) expect(refusal).toMatch(/has no recording in progress$/);
    // A connection cut by the last round may yet be handed out once, so a 503 is tried again, as it asks.
    const callAgainOn503 = async (method: string, path: string, body?: unknown) => {
      for (let attempt = 1; ; attempt += 1) {
        const answer = await call(method, path, body);
        if (answer.status !== 503 || attempt === 3) return answer.status;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    for (const mpc of mpcs) {
      expect(await callAgainOn503('POST', `MultiPartyCall/${mpc}/Record/`, { file_format: 'wav' })).toBe(202);
      expect(await callAgainOn503('DELETE', `MultiPartyCall/${mpc}/Record/`)).toBe(204);
    }
    // The pool ends once every connection is back; one kept lent out would hold the stop for good.
    const stopped = gateway.stop().then(() => 'stopped');
    gateway = undefined;
    expect(await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 15_000, 'still waiting'))])).toBe('stopped');
  });
});
