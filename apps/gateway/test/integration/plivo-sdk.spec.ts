import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ID, AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { plivoClient } from '../support/plivo-sdk.js';

// The official `plivo` SDK (4.79), unmodified, drives every operation and gets Plivo's shapes back.
let gateway: TestGateway;
let client: ReturnType<typeof plivoClient>;
let mpcCounter = 0;

beforeAll(async () => {
  gateway = await startTestGateway();
  client = plivoClient(gateway.url, AUTH_ID, AUTH_TOKEN);
});
afterAll(() => gateway?.stop());

/** A fresh live MPC with two participants; answers its name and member ids. */
async function liveMpc(options: Record<string, unknown> = {}) {
  const friendlyName = `sdk_mpc_${++mpcCounter}`;
  const agent = await client.multiPartyCalls.addParticipant('Agent', { friendlyName, from: '+14155550100', to: '+14155550101', ...options });
  const customer = await client.multiPartyCalls.addParticipant('Customer', { friendlyName, from: '+14155550100', to: '+14155550102', ...options });
  const { objects } = await client.multiPartyCalls.listParticipants({ friendlyName });
  return { friendlyName, agent, customer, memberIds: objects.map((participant: { memberId: string }) => participant.memberId) };
}

describe('MultiPartyCall through the official SDK', () => {
  it('addParticipant registers the participant and answers Plivo\'s response with a call_uuid', async () => {
    const response = await client.multiPartyCalls.addParticipant('Agent', { friendlyName: 'sdk_add', from: '+14155550100', to: '+14155550101' });
    expect(response).toMatchObject({ message: 'add participant action initiated' });
    expect(response.apiId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.requestUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.calls).toEqual([
      { to: '+14155550101', from: '+14155550100', callUuid: expect.stringMatching(/^[0-9a-f-]{36}$/), streamUrl: expect.stringMatching(/^ws:\/\/.+\/Stream\/[^/]+$/) },
    ]);
  });

  it('addParticipant with call_uuid binds that call', async () => {
    const response = await client.multiPartyCalls.addParticipant('Supervisor', { friendlyName: 'sdk_bind', callUuid: '2b3a0000-0000-4000-8000-000000000001' });
    expect(response.calls[0].callUuid).toBe('2b3a0000-0000-4000-8000-000000000001');
    const { objects } = await client.multiPartyCalls.listParticipants({ friendlyName: 'sdk_bind' });
    expect(objects[0]).toMatchObject({ callUuid: '2b3a0000-0000-4000-8000-000000000001', role: 'supervisor', coachMode: true });
  });

  it('start activates an initialized MPC', async () => {
    await client.multiPartyCalls.addParticipant('Agent', { friendlyName: 'sdk_init', from: '+1', to: '+2', startMpcOnEnter: false });
    expect((await client.multiPartyCalls.get({ friendlyName: 'sdk_init' })).status).toBe('Initialized');
    await client.multiPartyCalls.start({ friendlyName: 'sdk_init', status: 'active' });
    const mpc = await client.multiPartyCalls.get({ friendlyName: 'sdk_init' });
    expect(mpc.status).toBe('Active');
    expect(mpc.startTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00:00$/);
  });

  it('get answers the MPC object by name and by uuid', async () => {
    const { friendlyName } = await liveMpc();
    const byName = await client.multiPartyCalls.get({ friendlyName });
    expect(byName).toMatchObject({ friendlyName, status: 'Active', recording: 'not-recording', stayAlone: false, terminationCause: null });
    expect(byName.id).toBe(byName.mpcUuid);
    const byUuid = await client.multiPartyCalls.get({ uuid: byName.mpcUuid });
    expect(byUuid.mpcUuid).toBe(byName.mpcUuid);
    expect(byUuid.resourceUri).toBe(`/v1/Account/${AUTH_ID}/MultiPartyCall/name_${friendlyName}/`);
  });

  it('list answers MPCs with meta, filtered by status', async () => {
    const { friendlyName } = await liveMpc();
    const active = await client.multiPartyCalls.list({ status: 'active', limit: 20 });
    expect(Array.isArray(active)).toBe(true);
    expect(active.map((mpc: { friendlyName: string }) => mpc.friendlyName)).toContain(friendlyName);
    expect(active.meta).toMatchObject({ limit: 20, offset: 0 });
    expect(active.meta.count).toBeGreaterThanOrEqual(1);
    const byName = await client.multiPartyCalls.list({ friendlyName, limit: 1 });
    expect(byName).toHaveLength(1);
    const ended = await client.multiPartyCalls.list({ status: 'ended', friendlyName });
    expect(ended).toHaveLength(0);
  });

  it('stop ends the MPC with the hangup cause', async () => {
    const { friendlyName } = await liveMpc();
    const { mpcUuid } = await client.multiPartyCalls.get({ friendlyName });
    expect(await client.multiPartyCalls.stop({ friendlyName })).toBe(true);
    const ended = await client.multiPartyCalls.get({ uuid: mpcUuid });
    expect(ended).toMatchObject({ status: 'Ended', terminationCause: 'Hangup API Triggered', terminationCauseCode: 3000 });
    await expect(client.multiPartyCalls.get({ friendlyName })).rejects.toMatchObject({ status: 404 });
  });
});

describe('MPC recording through the official SDK', () => {
  it('startRecording answers api_id, message, recording_id and recording_url', async () => {
    const { friendlyName } = await liveMpc();
    const started = await client.multiPartyCalls.startRecording({ friendlyName });
    expect(started.message).toBe(`MPC: ${friendlyName} record started`);
    expect(started.recordingUrl).toBe(`${gateway.url}/v1/Account/${AUTH_ID}/Recording/${started.recordingId}.mp3`);
    expect((await client.multiPartyCalls.get({ friendlyName })).recording).toBe('recording');
  });

  it('startRecording while recording answers the same recording', async () => {
    const { friendlyName } = await liveMpc();
    const first = await client.multiPartyCalls.startRecording({ friendlyName, fileFormat: 'wav' });
    const second = await client.multiPartyCalls.startRecording({ friendlyName });
    expect(second.recordingId).toBe(first.recordingId);
    expect(second.recordingUrl.endsWith('.wav')).toBe(true);
  });

  it('pauseRecording and resumeRecording move the recording between recording and paused', async () => {
    const { friendlyName } = await liveMpc();
    await client.multiPartyCalls.startRecording({ friendlyName, recordingCallbackUrl: 'https://example.com/rec?tenant=42', recordingCallbackMethod: 'GET' });
    expect(await client.multiPartyCalls.pauseRecording({ friendlyName })).toEqual({});
    expect((await client.multiPartyCalls.get({ friendlyName })).recording).toBe('paused');
    await expect(client.multiPartyCalls.pauseRecording({ friendlyName })).rejects.toMatchObject({ status: 400, message: 'the recording is already paused' });
    expect(await client.multiPartyCalls.resumeRecording({ friendlyName })).toEqual({});
    expect((await client.multiPartyCalls.get({ friendlyName })).recording).toBe('recording');
  });

  it('stopRecording completes the recording', async () => {
    const { friendlyName } = await liveMpc();
    const { recordingId } = await client.multiPartyCalls.startRecording({ friendlyName });
    expect(await client.multiPartyCalls.stopRecording({ friendlyName })).toEqual({});
    expect((await client.multiPartyCalls.get({ friendlyName })).recording).toBe('not-recording');
    const recording = await client.recordings.get(recordingId);
    expect(recording.recordingEndMs).toMatch(/^\d+\.00000$/);
    expect(recording).toMatchObject({ recordingStorageDuration: 0, recordingStorageRate: null, monthlyRecordingStorageAmount: null });
    await expect(client.multiPartyCalls.stopRecording({ friendlyName })).rejects.toMatchObject({ status: 400 });
  });
});

describe('participants through the official SDK', () => {
  it('listParticipants answers meta and objects, filtered by call_uuid', async () => {
    const { friendlyName, customer } = await liveMpc();
    const all = await client.multiPartyCalls.listParticipants({ friendlyName });
    expect(all.objects).toHaveLength(2);
    expect(all.meta).toMatchObject({ count: 2, limit: 20, offset: 0, next: null, previous: null });
    const one = await client.multiPartyCalls.listParticipants({ friendlyName, callUuid: customer.calls[0].callUuid });
    expect(one.objects).toHaveLength(1);
    expect(one.objects[0]).toMatchObject({ role: 'customer', mute: false, hold: false, exitCause: null });
  });

  it('getParticipant answers the participant object', async () => {
    const { friendlyName, memberIds } = await liveMpc();
    const participant = await client.multiPartyCalls.getParticipant(memberIds[0], { friendlyName });
    expect(participant).toMatchObject({ memberId: memberIds[0], role: 'agent', startMpcOnEnter: true });
    expect(participant.joinTime).toMatch(/\+00:00$/);
  });

  it('updateParticipant mutes, holds and coaches, answering one message per parameter', async () => {
    const { friendlyName, memberIds } = await liveMpc();
    const response = await client.multiPartyCalls.updateParticipant(memberIds[0], { friendlyName, mute: true, hold: false, coachMode: false });
    expect(response).toMatchObject({
      mute: `MPC: ${friendlyName} mute/unmute member(s) succeeded`,
      hold: `MPC: ${friendlyName} hold/unhold member(s) succeeded`,
      coachMode: `MPC: ${friendlyName} coach_mode enable/disable succeeded`,
    });
    expect((await client.multiPartyCalls.getParticipant(memberIds[0], { friendlyName })).mute).toBe(true);
    await client.multiPartyCalls.updateParticipant('all', { friendlyName, hold: 'true' });
    const { objects } = await client.multiPartyCalls.listParticipants({ friendlyName });
    expect(objects.every((participant: { hold: boolean }) => participant.hold)).toBe(true);
  });

  it('kickParticipant removes the participant; the last one leaving ends the MPC', async () => {
    const { friendlyName, memberIds } = await liveMpc({ stayAlone: true });
    const { mpcUuid } = await client.multiPartyCalls.get({ friendlyName });
    expect(await client.multiPartyCalls.kickParticipant(memberIds[0], { friendlyName })).toEqual({});
    const kicked = await client.multiPartyCalls.getParticipant(memberIds[0], { friendlyName });
    expect(kicked).toMatchObject({ exitCause: 'Kicked Out of Multiparty Call', mute: null, hold: null });
    await client.multiPartyCalls.kickParticipant(memberIds[1], { friendlyName });
    expect(await client.multiPartyCalls.get({ uuid: mpcUuid })).toMatchObject({ status: 'Ended', terminationCauseCode: 1000 });
  });

  it('startParticipantRecording, pause, resume and stop', async () => {
    const { friendlyName, memberIds, agent } = await liveMpc();
    const started = await client.multiPartyCalls.startParticipantRecording(memberIds[0], { friendlyName, fileFormat: 'wav', recordTrackType: 'participant' });
    expect(started.message).toBe(`MPC: ${friendlyName} participant record started`);
    expect(started.recordingUrl.endsWith(`${started.recordingId}.wav`)).toBe(true);
    expect(await client.multiPartyCalls.pauseParticipantRecording(memberIds[0], { friendlyName, recordTrackType: 'participant' })).toEqual({});
    expect(await client.multiPartyCalls.resumeParticipantRecording(memberIds[0], { friendlyName, recordTrackType: 'participant' })).toEqual({});
    expect(await client.multiPartyCalls.stopParticipantRecording(memberIds[0], { friendlyName, recordTrackType: 'participant' })).toEqual({});
    const recording = await client.recordings.get(started.recordingId);
    // The member recorded is the Agent, whose call leg and numbers the recording carries.
    const { mpcUuid } = await client.multiPartyCalls.get({ friendlyName });
    expect(recording).toMatchObject({
      recordingFormat: 'wav',
      recordingType: 'participant',
      callUuid: agent.calls[0].callUuid,
      fromNumber: '+14155550100',
      toNumber: '+14155550101',
      conferenceName: friendlyName,
    });
    // The SDK's object leaves the MPC's uuid out; the wire carries it.
    const wire = await fetch(`${gateway.api}/Recording/${started.recordingId}/`, { headers: { authorization: gateway.auth } });
    expect(await wire.json()).toMatchObject({ mpc_uuid: mpcUuid, conference_uuid: mpcUuid, call_uuid: agent.calls[0].callUuid });
  });

  it('participant recording with the SDK defaults (record_track_type all)', async () => {
    const { friendlyName, memberIds } = await liveMpc();
    const started = await client.multiPartyCalls.startParticipantRecording(memberIds[1], { friendlyName });
    await client.multiPartyCalls.pauseParticipantRecording(memberIds[1], { friendlyName });
    await client.multiPartyCalls.resumeParticipantRecording(memberIds[1], { friendlyName });
    await client.multiPartyCalls.stopParticipantRecording(memberIds[1], { friendlyName });
    const [listed] = await client.recordings.list({ mpcName: friendlyName });
    expect(listed).toMatchObject({ recordingId: started.recordingId });
  });

  it('play audio is refused with a 404 that says the gateway sends no audio into calls', async () => {
    const { friendlyName, memberIds } = await liveMpc();
    const refusal = { status: 404, message: 'play audio is not supported: this gateway records calls and sends no audio into them' };
    await expect(client.multiPartyCalls.startPlayAudio(memberIds[0], 'https://example.com/a.mp3', { friendlyName })).rejects.toMatchObject(refusal);
    await expect(client.multiPartyCalls.stopPlayAudio(memberIds[0], { friendlyName })).rejects.toMatchObject(refusal);
  });

  it('a single-track participant recording is paused, resumed and stopped with the SDK defaults', async () => {
    const { friendlyName, memberIds } = await liveMpc();
    const started = await client.multiPartyCalls.startParticipantRecording(memberIds[1], { friendlyName, recordTrackType: 'participant' });
    await client.multiPartyCalls.pauseParticipantRecording(memberIds[1], { friendlyName });
    // The SDK's Recording object leaves the status out; the wire carries it.
    const status = async () => ((await (await fetch(`${gateway.api}/Recording/${started.recordingId}/`, { headers: { authorization: gateway.auth } })).json()) as { recording_status: string }).recording_status;
    expect(await status()).toBe('paused');
    await client.multiPartyCalls.resumeParticipantRecording(memberIds[1], { friendlyName });
    await client.multiPartyCalls.stopParticipantRecording(memberIds[1], { friendlyName });
    expect(await status()).toBe('completed');
    // With nothing left live, the default names nothing: the answer says so.
    await expect(client.multiPartyCalls.stopParticipantRecording(memberIds[1], { friendlyName })).rejects.toMatchObject({ status: 400 });
  });
});

describe('Recording through the official SDK', () => {
  it('get answers the Recording object with Plivo\'s string fields', async () => {
    const { friendlyName } = await liveMpc();
    const { recordingId } = await client.multiPartyCalls.startRecording({ friendlyName });
    const recording = await client.recordings.get(recordingId);
    expect(recording).toMatchObject({
      recordingId,
      recordingFormat: 'mp3',
      conferenceName: friendlyName,
      recordingType: 'mpc',
      resourceUri: `/v1/Account/${AUTH_ID}/Recording/${recordingId}/`,
    });
    expect(recording.recordingDurationMs).toMatch(/^\d+\.\d{5}$/);
    expect(recording.recordingStartMs).toMatch(/^\d{13}\.\d{5}$/);
    expect(recording.addTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
  });

  it('list filters by mpc_uuid, mpc_name and add_time', async () => {
    const { friendlyName } = await liveMpc();
    const { recordingId } = await client.multiPartyCalls.startRecording({ friendlyName });
    const { mpcUuid } = await client.multiPartyCalls.get({ friendlyName });
    const byUuid = await client.recordings.list({ mpcUuid, limit: 20, offset: 0 });
    expect(byUuid.map((recording: { recordingId: string }) => recording.recordingId)).toEqual([recordingId]);
    expect(byUuid[0]).toMatchObject({ mpcUuid, mpcName: friendlyName });
    const byName = await client.recordings.list({ mpcName: friendlyName });
    expect(byName).toHaveLength(1);
    const future = await client.recordings.list({ mpcName: friendlyName, add_time__gt: '2999-01-01 00:00' });
    expect(future).toHaveLength(0);
    // Plivo's own example: an MPC's recordings since a date long past (open-ended, so no range over 30 days).
    const since = await client.recordings.list({ mpcUuid, add_time__gt: '2024-01-01 00:00', limit: 20, offset: 0 });
    expect(since.map((recording: { recordingId: string }) => recording.recordingId)).toEqual([recordingId]);
  });

  it('delete removes a finished recording and answers 404 after', async () => {
    const { friendlyName } = await liveMpc();
    const { recordingId } = await client.multiPartyCalls.startRecording({ friendlyName });
    await expect(client.recordings.delete(recordingId)).rejects.toMatchObject({ status: 400 });
    await client.multiPartyCalls.stopRecording({ friendlyName });
    expect(await client.recordings.delete(recordingId)).toBe(true);
    await expect(client.recordings.get(recordingId)).rejects.toMatchObject({ status: 404 });
  });
});

describe('max_duration', () => {
  it('ends an MPC that reached its max_duration with cause 2000, completing its recording', async () => {
    const { friendlyName } = await liveMpc();
    const { mpcUuid } = await client.multiPartyCalls.get({ friendlyName });
    const { recordingId } = await client.multiPartyCalls.startRecording({ friendlyName });
    // Age the MPC past its 14400 s instead of waiting four hours.
    await gateway.database.db.execute(`update mpcs set created_at = created_at - interval '5 hours' where mpc_uuid = '${mpcUuid}'`);
    let mpc = await client.multiPartyCalls.get({ uuid: mpcUuid });
    for (let attempt = 0; attempt < 40 && mpc.status !== 'Ended'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      mpc = await client.multiPartyCalls.get({ uuid: mpcUuid });
    }
    expect(mpc).toMatchObject({ status: 'Ended', terminationCause: 'Max Duration Reached', terminationCauseCode: 2000 });
    expect((await client.recordings.get(recordingId)).recordingEndMs).toMatch(/^\d+\.00000$/);
  });
});
