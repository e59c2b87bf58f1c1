import { createMpcClient, type Recording } from '@mpc/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiFailure, step, timed } from './api.js';
import type { AudioSource } from './audio-source.js';
import { CallbackReceiver, type ReceivedCallback } from './callback-receiver.js';
import { downloadRecording, type Downloaded } from './download.js';
import type { SimulateOptions } from './options.js';
import { ParticipantStream, redact } from './participant-stream.js';
import type { Progress } from './progress.js';
import { chooseSources } from './sources.js';

export interface SimulatedParticipant {
  role: 'Agent' | 'Customer';
  callUuid: string;
  memberId: string;
  source: string;
}

export interface SimulationResult {
  mpcName: string;
  mpcUuid: string;
  participants: SimulatedParticipant[];
  recording: Recording;
  file: Downloaded;
  /** Measured from when each API call took effect (halfway through it). */
  expectedRecordedSeconds: number;
  pausedSeconds: number;
  callSeconds: number;
  callbacks: ReceivedCallback[];
  /** Why the gateway refused the receiver as recording_callback_url, when it did. */
  callbacksRefused?: string;
}

const FILE_TIMEOUT_MS = 10_000;
/** After the file is there, how long to wait for the last callback (the completed event). */
const CALLBACK_GRACE_MS = 3_000;

/**
 * One whole call: an MPC with an Agent and Customers, their audio streamed in real time, a
 * recording started, paused, resumed and stopped on schedule, then the file downloaded and the
 * Recording object fetched. On any failure or abort the streams are hung up and the MPC ended.
 */
export async function runSimulation(options: SimulateOptions, progress: Progress, signal: AbortSignal): Promise<SimulationResult> {
  const { url, authId, authToken } = options;
  const mpc = createMpcClient({ baseUrl: url, authId, authToken });
  const api = <T>(name: string, call: () => Promise<T>) => step(name, url, call);
  const mpcName = `sim_${new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').replace('.', '').replace('Z', '')}`;
  const mpcId = `name_${mpcName}`;
  const path = { mpc_id: mpcId };

  const sources = await chooseSources(options, (message) => progress.step(message));
  const receiver = await CallbackReceiver.start(authToken);
  const streams: ParticipantStream[] = [];
  const failed = new AbortController();
  const stop = AbortSignal.any([signal, failed.signal]);
  let callOver = false;

  try {
    progress.step(`Creating MPC ${mpcName} on ${url} with ${options.participants} participant(s)`);
    const added: { role: SimulatedParticipant['role']; callUuid: string; streamUrl: string; source: AudioSource }[] = [];
    for (let i = 0; i < options.participants; i++) {
      const role = i === 0 ? 'Agent' : 'Customer';
      const { calls } = await api(`add participant ${i + 1} (${role})`, () =>
        mpc.addParticipant({ path, body: { role, from: '+14155550100', to: `+1415555${String(200 + i).padStart(4, '0')}`, stay_alone: true } }),
      );
      const call = calls[0];
      if (!call?.stream_url) throw new Error('the gateway answered no stream_url: this gateway version takes no media streams');
      added.push({ role, callUuid: call.call_uuid, streamUrl: call.stream_url, source: sources[i]! });
    }
    const { mpc_uuid: mpcUuid } = await api('get the MPC', () => mpc.getMpc({ path }));
    const { objects } = await api('list participants', () => mpc.listParticipants({ path }));
    const participants = added.map(({ role, callUuid, source }) => ({
      role,
      callUuid,
      memberId: objects.find((participant) => participant.call_uuid === callUuid)?.member_id ?? '?',
      source: source.description,
    }));

    progress.step(`Connecting ${added.length} media stream(s) to ${redact(added[0]!.streamUrl)}`);
    for (const { callUuid, streamUrl, source } of added) streams.push(new ParticipantStream(streamUrl, callUuid, source));
    await Promise.all(streams.map((stream) => stream.connect()));
    streams.forEach((stream, i) => {
      stream.onUnexpectedClose = (code, reason) => {
        if (!callOver) failed.abort(new Error(`the gateway closed participant ${i + 1}'s media stream: ${code} ${reason || '(no reason)'}`));
      };
    });

    for (const stream of streams) stream.start();
    const t0 = performance.now();
    progress.startCall(options.seconds, t0);
    const until = (seconds: number) => sleep(Math.max(0, t0 + seconds * 1000 - performance.now()), undefined, { signal: stop });

    let callbacksRefused: string | undefined;
    const startRecording = (callbacks: boolean) =>
      timed(() =>
        api('start recording', () =>
          mpc.startMpcRecording({
            path,
            body: callbacks
              ? { file_format: options.format, recording_callback_url: receiver.url, recording_callback_method: 'POST' }
              : { file_format: options.format },
          }),
        ),
      );
    const start = await startRecording(true).catch((error: unknown) => {
      // A gateway that keeps callbacks off private addresses refuses the 127.0.0.1 receiver: record without it.
      if (!(error instanceof ApiFailure && error.apiError.status === 400 && /callback/i.test(error.apiError.message))) throw error;
      callbacksRefused = error.apiError.message;
      return startRecording(false);
    });
    const { recording_id: recordingId, recording_url: recordingUrl } = start.result;
    progress.phase('recording', `recording ${recordingId} started (${options.format})`);
    await until(options.pauseAt);
    const pause = await timed(() => api('pause recording', () => mpc.pauseMpcRecording({ path })));
    progress.phase('paused', 'recording paused');
    await until(options.resumeAt);
    const resume = await timed(() => api('resume recording', () => mpc.resumeMpcRecording({ path })));
    progress.phase('recording', 'recording resumed');
    await until(options.seconds);
    const end = await timed(() => api('stop recording', () => mpc.stopMpcRecording({ path })));
    progress.phase('stopped', 'recording stopped');
    progress.endCall();

    callOver = true;
    await Promise.all(streams.map((stream) => stream.hangup()));
    progress.step(`Hung up ${streams.length} participant(s); waiting for the recording file`);

    const file = await downloadRecording({
      recordingUrl,
      authorization: `Basic ${Buffer.from(`${authId}:${authToken}`).toString('base64')}`,
      directory: options.out,
      fileName: `${mpcName}_${recordingId}.${options.format}`,
      timeoutMs: FILE_TIMEOUT_MS,
      signal: stop,
    });
    const recording = await api('get the recording', () => mpc.getRecording({ path: { recording_id: recordingId } }));

    // Callbacks run behind the API; give the completed one a moment once any has come.
    const finished = (received: readonly ReceivedCallback[]) => received.some(({ event }) => /Completed|Failed/.test(event));
    if (!callbacksRefused) await receiver.waitFor(finished, receiver.received.length > 0 ? CALLBACK_GRACE_MS : 500);

    const pausedSeconds = (resume.at - pause.at) / 1000;
    return {
      mpcName,
      mpcUuid,
      participants,
      recording,
      file,
      expectedRecordedSeconds: (end.at - start.at) / 1000 - pausedSeconds,
      pausedSeconds,
      callSeconds: options.seconds,
      callbacks: [...receiver.received],
      callbacksRefused,
    };
  } catch (error) {
    progress.endCall();
    // An abort surfaces as the sleep's AbortError: report why it was aborted instead.
    const reason = stop.aborted ? stop.reason : error;
    await cleanUp(streams, () => mpc.endMpc({ path }));
    throw reason;
  } finally {
    await receiver.close();
  }
}

/** Best effort after a failure: hang up what streams, and end the MPC so it does not linger. */
async function cleanUp(streams: ParticipantStream[], endMpc: () => Promise<unknown>): Promise<void> {
  await Promise.allSettled(streams.map((stream) => stream.hangup()));
  await endMpc().catch(() => undefined);
}
