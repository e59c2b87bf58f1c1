import { z } from 'zod';
import { CallbackDeliveryListSchema } from './callbacks.js';
import { AuthIdSchema, MemberIdSchema, MemberSelectorSchema, MpcIdSchema, RecordingIdSchema } from './ids.js';
import {
  ActivateMpcBodySchema,
  AddParticipantBodySchema,
  AddParticipantResponseSchema,
  ListMpcsQuerySchema,
  ListParticipantsQuerySchema,
  MpcListSchema,
  MpcResponseSchema,
  ParticipantListSchema,
  ParticipantResponseSchema,
  UpdateParticipantBodySchema,
  UpdateParticipantResponseSchema,
} from './mpc.js';
import {
  FILE_FORMATS,
  ListRecordingsQuerySchema,
  ParticipantRecordingActionBodySchema,
  RecordingListSchema,
  RecordingResponseSchema,
  StartMpcRecordingBodySchema,
  StartParticipantRecordingBodySchema,
  StartRecordingResponseSchema,
} from './recordings.js';

export type HttpMethod = 'get' | 'post' | 'delete';

export interface Operation {
  method: HttpMethod;
  /** OpenAPI-style path with `{param}` placeholders, spelled as Plivo's SDKs send it. */
  path: string;
  tag: 'MultiPartyCall' | 'Participant' | 'Recording';
  summary: string;
  description?: string;
  params: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  success:
    | { status: 200 | 201 | 202; schema: z.ZodType; description: string }
    | { status: 204; description: string }
    | { status: 200; media: true; description: string };
  /** Error statuses this operation can answer besides 401, 405, 429 and 503, which every operation can. */
  errors: readonly (400 | 404 | 413)[];
  /** Which callback payloads the operation causes to be sent. */
  callbacks?: 'mpcRecording' | 'participantRecording';
  /** An extension Plivo does not have; marked `x-beyond-plivo` in the document. */
  beyondPlivo?: true;
}

const BASE = '/v1/Account/{auth_id}';
const MPC = `${BASE}/MultiPartyCall/{mpc_id}`;
const MEMBER = `${MPC}/Participant/{member_id}`;

const account = z.object({ auth_id: AuthIdSchema });
const mpc = account.extend({ mpc_id: MpcIdSchema });
const member = mpc.extend({ member_id: MemberIdSchema });
const members = mpc.extend({ member_id: MemberSelectorSchema });
const recording = account.extend({ recording_id: RecordingIdSchema });

const none = (description: string) => ({ status: 204 as const, description });

/**
 * Every operation of the gateway, keyed by operationId. The gateway derives its routes from this
 * table, the OpenAPI document is written from it and the client calls through it.
 */
export const operations = {
  addParticipant: {
    method: 'post',
    path: `${MPC}/Participant/`,
    tag: 'Participant',
    summary: 'Add a participant',
    description:
      'Registers a participant in the MPC, creating the MPC if no live MPC has that name. The gateway never dials: with `call_uuid` it binds that call; with `from`/`to` it answers a generated `call_uuid`, which the participant\'s media stream must carry.',
    params: mpc,
    body: AddParticipantBodySchema,
    success: { status: 201, schema: AddParticipantResponseSchema, description: 'The participant was registered.' },
    errors: [400, 404, 413],
  },
  activateMpc: {
    method: 'post',
    path: `${MPC}/`,
    tag: 'MultiPartyCall',
    summary: 'Start (activate) an initialized MPC',
    params: mpc,
    body: ActivateMpcBodySchema,
    success: none('The MPC is active.'),
    errors: [400, 404, 413],
  },
  endMpc: {
    method: 'delete',
    path: `${MPC}/`,
    tag: 'MultiPartyCall',
    summary: 'End an MPC',
    description: 'Ends the MPC: every participant leaves and every live recording completes.',
    params: mpc,
    success: none('The MPC has ended.'),
    errors: [400, 404, 413],
  },
  getMpc: {
    method: 'get',
    path: `${MPC}`,
    tag: 'MultiPartyCall',
    summary: 'Retrieve an MPC',
    description: 'A friendly name finds only a live MPC; use the UUID for ended ones.',
    params: mpc,
    success: { status: 200, schema: MpcResponseSchema, description: 'The MPC.' },
    errors: [400, 404],
  },
  listMpcs: {
    method: 'get',
    path: `${BASE}/MultiPartyCall/`,
    tag: 'MultiPartyCall',
    summary: 'List MPCs',
    description: 'Newest first. Without an end_time filter only MPCs created in the last 7 days are searched.',
    params: account,
    query: ListMpcsQuerySchema,
    success: { status: 200, schema: MpcListSchema, description: 'A page of MPCs.' },
    errors: [400],
  },
  startMpcRecording: {
    method: 'post',
    path: `${MPC}/Record/`,
    tag: 'MultiPartyCall',
    summary: 'Start recording a multiparty call',
    description:
      'Starts recording the MPC. While a recording is live, a start answers that recording instead of starting a second one. A Supervisor\'s voice is recorded regardless of its coach_mode.',
    params: mpc,
    body: StartMpcRecordingBodySchema,
    success: { status: 202, schema: StartRecordingResponseSchema, description: 'The recording has started.' },
    errors: [400, 404, 413],
    callbacks: 'mpcRecording',
  },
  stopMpcRecording: {
    method: 'delete',
    path: `${MPC}/Record/`,
    tag: 'MultiPartyCall',
    summary: 'Stop recording a multiparty call',
    params: mpc,
    success: none('The recording has stopped.'),
    errors: [400, 404, 413],
  },
  pauseMpcRecording: {
    method: 'post',
    path: `${MPC}/Record/Pause/`,
    tag: 'MultiPartyCall',
    summary: 'Pause recording a multiparty call',
    description: 'Nothing is recorded while paused; the recording continues where it left off on resume.',
    params: mpc,
    success: none('The recording is paused.'),
    errors: [400, 404, 413],
  },
  resumeMpcRecording: {
    method: 'post',
    path: `${MPC}/Record/Resume/`,
    tag: 'MultiPartyCall',
    summary: 'Resume recording a multiparty call',
    params: mpc,
    success: none('The recording has resumed.'),
    errors: [400, 404, 413],
  },
  listParticipants: {
    method: 'get',
    path: `${MPC}/Participant/`,
    tag: 'Participant',
    summary: 'List participants',
    params: mpc,
    query: ListParticipantsQuerySchema,
    success: { status: 200, schema: ParticipantListSchema, description: 'The participants.' },
    errors: [400, 404],
  },
  getParticipant: {
    method: 'get',
    path: `${MEMBER}/`,
    tag: 'Participant',
    summary: 'Retrieve a participant',
    params: member,
    success: { status: 200, schema: ParticipantResponseSchema, description: 'The participant.' },
    errors: [400, 404],
  },
  updateParticipant: {
    method: 'post',
    path: `${MEMBER}/`,
    tag: 'Participant',
    summary: 'Mute, hold or coach participants',
    description: 'Muted participants and participants on hold are left out of the recording.',
    params: members,
    body: UpdateParticipantBodySchema,
    success: { status: 202, schema: UpdateParticipantResponseSchema, description: 'The participants were updated.' },
    errors: [400, 404, 413],
  },
  kickParticipant: {
    method: 'delete',
    path: `${MEMBER}/`,
    tag: 'Participant',
    summary: 'Kick participants out',
    params: members,
    success: none('The participants have left.'),
    errors: [400, 404, 413],
  },
  startParticipantRecording: {
    method: 'post',
    path: `${MEMBER}/Record/`,
    tag: 'Participant',
    summary: 'Start recording a participant',
    params: member,
    body: StartParticipantRecordingBodySchema,
    success: { status: 200, schema: StartRecordingResponseSchema, description: 'The recording has started.' },
    errors: [400, 404, 413],
    callbacks: 'participantRecording',
  },
  stopParticipantRecording: {
    method: 'delete',
    path: `${MEMBER}/Record/`,
    tag: 'Participant',
    summary: 'Stop recording a participant',
    params: member,
    body: ParticipantRecordingActionBodySchema,
    success: none('The recording has stopped.'),
    errors: [400, 404, 413],
  },
  pauseParticipantRecording: {
    method: 'post',
    path: `${MEMBER}/Record/Pause/`,
    tag: 'Participant',
    summary: 'Pause recording a participant',
    params: member,
    body: ParticipantRecordingActionBodySchema,
    success: none('The recording is paused.'),
    errors: [400, 404, 413],
  },
  resumeParticipantRecording: {
    method: 'post',
    path: `${MEMBER}/Record/Resume/`,
    tag: 'Participant',
    summary: 'Resume recording a participant',
    params: member,
    body: ParticipantRecordingActionBodySchema,
    success: none('The recording has resumed.'),
    errors: [400, 404, 413],
  },
  getRecordingFile: {
    method: 'get',
    path: `${BASE}/Recording/{recording_id}.{format}`,
    tag: 'Recording',
    summary: 'Download a recording file',
    description: 'Serves the audio at recording_url once the recording is complete: a single byte range with Range (206, or 416 outside the file; If-Range honoured), an ETag, and 304 to an If-None-Match that names it.',
    params: recording.extend({ format: z.enum(FILE_FORMATS, { error: 'must be one of mp3, wav' }).meta({ description: 'File format: mp3 or wav.' }) }),
    success: { status: 200, media: true, description: 'The audio file.' },
    errors: [400, 404],
  },
  getRecording: {
    method: 'get',
    path: `${BASE}/Recording/{recording_id}/`,
    tag: 'Recording',
    summary: 'Retrieve a recording',
    params: recording,
    success: { status: 200, schema: RecordingResponseSchema, description: 'The recording.' },
    errors: [400, 404],
  },
  listRecordings: {
    method: 'get',
    path: `${BASE}/Recording/`,
    tag: 'Recording',
    summary: 'List recordings',
    description: 'Newest first. Without a time filter only recordings added in the last 7 days are searched. An add_time range bounded at both ends may span at most 30 days.',
    params: account,
    query: ListRecordingsQuerySchema,
    success: { status: 200, schema: RecordingListSchema, description: 'A page of recordings.' },
    errors: [400],
  },
  listRecordingCallbacks: {
    method: 'get',
    path: `${BASE}/Recording/{recording_id}/Callback/`,
    tag: 'Recording',
    summary: 'List the callback deliveries of a recording (beyond Plivo)',
    description:
      'An extension: Plivo has no such route. Every event sent to the recording\'s recording_callback_url, in SequenceNumber order, with each delivery attempt (time, status, latency, error).',
    params: recording,
    success: { status: 200, schema: CallbackDeliveryListSchema, description: 'The events and their attempts.' },
    errors: [400, 404],
    beyondPlivo: true,
  },
  deleteRecording: {
    method: 'delete',
    path: `${BASE}/Recording/{recording_id}/`,
    tag: 'Recording',
    summary: 'Delete a recording',
    description: 'Deletes the recording and its file. A live recording cannot be deleted; stop it first.',
    params: recording,
    success: none('The recording was deleted.'),
    errors: [400, 404, 413],
  },
} as const satisfies Record<string, Operation>;

export type Operations = typeof operations;
export type OperationId = keyof Operations;

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

/** What a handler receives once the request has been parsed by the operation's schemas. */
export interface OperationInput<K extends OperationId> {
  params: Parsed<Operations[K]['params']>;
  query: Operations[K] extends { query: infer Q } ? Parsed<Q> : undefined;
  body: Operations[K] extends { body: infer B } ? Parsed<B> : undefined;
}
