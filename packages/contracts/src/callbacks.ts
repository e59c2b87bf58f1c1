import { z } from 'zod';

export const MPC_RECORDING_EVENTS = [
  'MPCRecordingInitiated',
  'MPCRecordingPaused',
  'MPCRecordingResumed',
  'MPCRecordingCompleted',
  'MPCRecordingFailed',
] as const;

export const PARTICIPANT_RECORDING_EVENTS = [
  'ParticipantRecordingInitiated',
  'ParticipantRecordingPaused',
  'ParticipantRecordingResumed',
  'ParticipantRecordingCompleted',
  'ParticipantRecordingFailed',
] as const;

export type MpcRecordingEvent = (typeof MPC_RECORDING_EVENTS)[number];
export type ParticipantRecordingEvent = (typeof PARTICIPANT_RECORDING_EVENTS)[number];

const timestamp = (description: string) =>
  z.string().meta({ description: `${description} Format: YYYY-MM-DD HH:mm:ss+hh:mm.`, example: '2026-01-05 09:20:03+00:00' });

/** The twelve parameters of the seed, all strings, as sent to recording_callback_url. */
const recordingCallbackFields = {
  EventTimestamp: timestamp('Timestamp at which the event occurred.'),
  MPCName: z.string().meta({ description: 'Friendly name provided during the creation of the MPC.' }),
  MPCUUID: z.string().meta({ description: 'Unique ID of the Multiparty call.' }),
  RecordingDuration: z.string().meta({ description: 'Duration of recording in seconds.' }),
  RecordingEndTime: timestamp('Timestamp at which the recording ended; empty until it ends.'),
  RecordingFormat: z.string().meta({ description: 'Format of the recording.' }),
  RecordingResourceURL: z.string().meta({ description: 'Resource URL of the recording file. You can use this URL to fetch the recording details later.' }),
  RecordingStartTime: timestamp('Timestamp at which the recording started.'),
  RecordingURL: z.string().meta({ description: 'Complete path to the recorded file URL.' }),
  RecordingUUID: z.string().meta({ description: 'Unique identifier to identify the file.' }),
  SequenceNumber: z.string().meta({ description: 'Indicates the sequence of the callback, from 1 per recording. Helpful to sort the callback events.' }),
};

export const MpcRecordingCallbackSchema = z
  .object({
    EventName: z.enum(MPC_RECORDING_EVENTS).meta({ description: 'Event that triggered this notification.' }),
    ...recordingCallbackFields,
  })
  .strict()
  .meta({ id: 'MpcRecordingCallback', description: 'Sent to recording_callback_url on every state change of an MPC recording.' });
export type MpcRecordingCallback = z.infer<typeof MpcRecordingCallbackSchema>;

export const ParticipantRecordingCallbackSchema = z
  .object({
    EventName: z.enum(PARTICIPANT_RECORDING_EVENTS).meta({ description: 'Event that triggered this notification.' }),
    MemberID: z.string().meta({ description: 'Member ID of the recorded participant.' }),
    ...recordingCallbackFields,
  })
  .strict()
  .meta({ id: 'ParticipantRecordingCallback', description: 'Sent to recording_callback_url on every state change of a participant recording.' });
export type ParticipantRecordingCallback = z.infer<typeof ParticipantRecordingCallbackSchema>;

export const CallbackDeliverySchema = z
  .object({
    sequence_number: z.number().int().meta({ description: 'SequenceNumber of the event.' }),
    event_name: z.string(),
    url: z.string().meta({ description: 'The callback URL as registered (fragment included).' }),
    method: z.enum(['GET', 'POST']),
    status: z.enum(['pending', 'delivered', 'failed']).meta({ description: 'pending: not acknowledged yet and retries are left; failed: given up.' }),
    created_at: z.string().meta({ description: 'When the event happened (ISO 8601).' }),
    attempts: z.array(
      z.object({
        attempted_at: z.string(),
        http_status: z.number().int().nullable().meta({ description: 'The receiver\'s status; null when no answer came.' }),
        latency_ms: z.number().int(),
        error: z.string().nullable().meta({ description: 'Why no status came: `ct` (connect), `rt` (read) or `refused` (address not allowed).' }),
      }),
    ),
  })
  .meta({ id: 'CallbackDelivery' });

export const CallbackDeliveryListSchema = z
  .object({ api_id: z.string(), objects: z.array(CallbackDeliverySchema) })
  .meta({ id: 'CallbackDeliveryList' });
