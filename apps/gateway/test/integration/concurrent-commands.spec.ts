import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiOf, okApiOf } from '../support/api.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('commands on one MPC recording at once', () => {
  let gateway: TestGateway;
  const receiver = new CallbackReceiver(AUTH_TOKEN);
  const call = apiOf(() => gateway);
  const api = okApiOf(() => gateway);

  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(async () => {
    await gateway?.stop();
    await receiver.stop();
  });

  it('take effect one after the other: of two pauses, or two resumes, one succeeds and the other is refused', async () => {
    await api('POST', 'MultiPartyCall/name_twice/Participant/', { role: 'Agent', call_uuid: 'twice-1' });
    const { recording_id: recordingId } = await api('POST', 'MultiPartyCall/name_twice/Record/', {
      file_format: 'wav',
      recording_callback_url: `${await receiver.start()}/events`,
    });
    const answers: string[] = [];
    for (let round = 0; round < 10; round += 1) {
      for (const command of ['Pause', 'Resume']) {
        const pair = await Promise.all([0, 1].map(() => call('POST', `MultiPartyCall/name_twice/Record/${command}/`, {})));
        answers.push(`${command} ${pair.map((answer) => answer.status).sort().join('/')}`);
      }
    }
    expect(new Set(answers)).toEqual(new Set(['Pause 204/400', 'Resume 204/400']));
    await api('DELETE', 'MultiPartyCall/name_twice/Record/');
    const events = (await receiver.waitFor(22, recordingId)).map((event) => event.params.EventName);
    expect(events).toEqual([
      'MPCRecordingInitiated',
      ...Array.from({ length: 10 }, () => ['MPCRecordingPaused', 'MPCRecordingResumed']).flat(),
      'MPCRecordingCompleted',
    ]);
  });

  it('take effect one after the other: a pause and a stop at once never leave a stopped recording paused', async () => {
    for (let round = 0; round < 10; round += 1) {
      const mpc = `name_pause_stop_${round}`;
      await api('POST', `MultiPartyCall/${mpc}/Participant/`, { role: 'Agent', call_uuid: `pause-stop-${round}` });
      const { recording_id: recordingId } = await api('POST', `MultiPartyCall/${mpc}/Record/`, { file_format: 'wav' });
      await Promise.all([call('POST', `MultiPartyCall/${mpc}/Record/Pause/`, {}), call('DELETE', `MultiPartyCall/${mpc}/Record/`)]);
      expect((await api('GET', `Recording/${recordingId}/`)).recording_status).toBe('completed');
    }
  });
});
