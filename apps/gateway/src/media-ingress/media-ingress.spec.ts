import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AccountRow, MpcRow, ParticipantRow } from '../persistence/schema.js';
import { closeReason, MediaIngress, type StreamControl, type StreamRecorder } from './media-ingress.js';
import { signStreamToken } from './stream-token.js';

describe('closeReason', () => {
  it('keeps a reason that fits a close frame, and cuts a longer one at a character within its 123 bytes', () => {
    expect(closeReason('stream stopped')).toBe('stream stopped');
    expect(closeReason('a'.repeat(123))).toBe('a'.repeat(123));
    expect(closeReason('a'.repeat(130))).toBe('a'.repeat(123));
    // 41 three-byte characters: 123 bytes fit; one more does not, and is not cut through.
    expect(closeReason('€'.repeat(41))).toBe('€'.repeat(41));
    expect(closeReason(`x${'€'.repeat(41)}`)).toBe(`x${'€'.repeat(40)}`);
    expect(closeReason(`MPC ${'😀'.repeat(40)} has ended`)).toBe(`MPC ${'😀'.repeat(29)}`);
  });
});

describe('MediaIngress', () => {
  const account = { authId: 'MAUNIT0000000000001', authToken: 'token' } as AccountRow;
  const mpc = { mpcUuid: '3f1c2a4e-0000-4000-8000-000000000001', authId: account.authId, friendlyName: 'unit', status: 'Active' } as MpcRow;
  const participant = { memberId: 1, mpcUuid: mpc.mpcUuid, callUuid: '3f1c2a4e-0000-4000-8000-0000000000c1', mute: false, hold: false } as ParticipantRow;

  it('closes a stream whose MPC ended while it joined, the end\'s notice coming before the join\'s answer, and puts nothing in the mix', async () => {
    let answerJoin!: () => void;
    const control: StreamControl = {
      findAccount: async () => account,
      authenticate: async () => undefined,
      joinStream: () => new Promise((resolve) => (answerJoin = () => resolve({ mpc, participant }))),
      hangup: async () => undefined,
    };
    let started = 0;
    const recorder = {
      streamStarted: () => `source-${(started += 1)}`,
      streamAudio: () => 'placed',
      streamEnded: () => undefined,
      sourceStats: () => undefined,
    } as unknown as StreamRecorder;
    const ingress = new MediaIngress(control, recorder, pino({ level: 'silent' }));
    const server: Server = createServer();
    ingress.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const token = signStreamToken({ mpcUuid: mpc.mpcUuid, callUuid: participant.callUuid }, account.authToken);
      const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/Account/${account.authId}/MultiPartyCall/uuid_${mpc.mpcUuid}/Stream/${token}`, ['audio.plivo.com']);
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ event: 'start', sequenceNumber: 1, start: { callId: participant.callUuid, streamId: 's1', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } } }));
      while (!answerJoin) await new Promise((resolve) => setTimeout(resolve, 5));
      ingress.participantsChanged({ mpcUuid: mpc.mpcUuid, authId: account.authId, mpcName: mpc.friendlyName, present: [], ended: true });
      answerJoin();
      const stillOpen = new Promise((resolve) => setTimeout(() => resolve('still open'), 2000));
      expect(await Promise.race([closed, stillOpen])).toEqual({ code: 1000, reason: 'the multiparty call ended' });
      expect(started).toBe(0);
    } finally {
      await ingress.close(100);
      server.close();
    }
  });
});
