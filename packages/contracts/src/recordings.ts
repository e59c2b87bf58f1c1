import { z } from 'zod';
import { CallbackUrlSchema, HttpMethodSchema, timeFilters, wireEnum, wireInt } from './wire.js';
import { FriendlyNameSchema, UuidSchema } from './ids.js';
import { PageQuerySchema } from './mpc.js';

export const FILE_FORMATS = ['mp3', 'wav'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export const RECORD_TRACK_TYPES = ['participant', 'all', 'both'] as const;
export type RecordTrackType = (typeof RECORD_TRACK_TYPES)[number];

const recordingOptions = {
  file_format: wireEnum(FILE_FORMATS, 'Format of the recording: mp3 or wav. Defaults to mp3.').default('mp3'),
  recording_callback_url: CallbackUrlSchema.optional().meta({
    description:
      'URL to which status update events for this recording are sent. A fragment such as `#rc=3&rp=5xx` sets the retry rules; it is stripped before the call.',
  }),
  recording_callback_method: HttpMethodSchema.default('POST').meta({
    description: 'HTTP verb used to invoke recording_callback_url: GET or POST. Defaults to POST.',
  }),
};

export const StartMpcRecordingBodySchema = z
  .object(recordingOptions)
  .meta({
    id: 'StartMpcRecordingRequest',
    description: 'Starts recording the MPC. A Supervisor\'s voice is recorded regardless of its coach_mode. Unknown keys are ignored.',
    example: { file_format: 'mp3' },
  });
export type StartMpcRecordingBody = z.infer<typeof StartMpcRecordingBodySchema>;

const recordTrackType = wireEnum(
  RECORD_TRACK_TYPES,
  '`participant`: this member alone; `all`: one channel per member; `both`: both recordings. Defaults to all.',
).default('all');

export const StartParticipantRecordingBodySchema = z
  .object({ ...recordingOptions, record_track_type: recordTrackType })
  .meta({ id: 'StartParticipantRecordingRequest', example: { file_format: 'mp3', record_track_type: 'participant' } });
export type StartParticipantRecordingBody = z.infer<typeof StartParticipantRecordingBodySchema>;

export const ParticipantRecordingActionBodySchema = z
  .object({
    record_track_type: wireEnum(
      RECORD_TRACK_TYPES,
      'The recordings acted on: `participant`, this member alone; `all`, the multichannel one, or the single-track one when the member has no multichannel recording live; `both`, both. Defaults to all.',
    ).default('all'),
  })
  .meta({ id: 'ParticipantRecordingActionRequest', example: { record_track_type: 'all' } });

export const StartRecordingResponseSchema = z
  .object({
    api_id: z.string(),
    message: z.string().meta({ example: 'MPC: sales_standup record started' }),
    recording_id: z.string().meta({ description: 'Identifier of the recording.' }),
    recording_url: z.string().meta({ description: 'Where the recording file is served once it is complete.' }),
    recordings: z
      .array(z.object({ recording_id: z.string(), recording_url: z.string(), record_track_type: z.enum(RECORD_TRACK_TYPES) }))
      .optional()
      .meta({ description: 'Beyond Plivo: with record_track_type `both`, the two recordings started (participant first).' }),
  })
  .meta({ id: 'StartRecordingResponse', description: 'The recording has started; a start while one is live answers that recording.' });
export type StartRecordingResponse = z.infer<typeof StartRecordingResponseSchema>;

const msString = (description: string) =>
  z.string().regex(/^\d+\.\d{5}$/).nullable().meta({ description: `${description} A string with five decimals, as Plivo sends it.` });

export const RecordingSchema = z
  .object({
    add_time: z.string().meta({ description: 'When the recording was created, `YYYY-MM-DD HH:mm:ss.uuuuuu+hh:mm`.' }),
    call_uuid: z.string().nullable().meta({ description: 'For a participant recording, the participant\'s call leg; null for MPC recordings.' }),
    conference_name: z.string().nullable().meta({ description: 'Friendly name of the MPC.' }),
    conference_uuid: z.string().nullable().meta({ description: 'UUID of the MPC.' }),
    failure_reason: z.string().nullable().meta({ description: 'Why the recording failed; null unless recording_status is failed. Beyond Plivo.' }),
    from_number: z.string().nullable(),
    member_id: z.string().nullable().meta({ description: 'For a participant recording, the member. Beyond Plivo.' }),
    mpc_name: z.string().nullable().meta({ description: 'Friendly name of the MPC.' }),
    mpc_uuid: z.string().nullable().meta({ description: 'UUID of the MPC.' }),
    recording_duration_ms: msString('Recorded time in milliseconds, pauses excluded.'),
    recording_end_ms: msString('When the recording ended, epoch milliseconds; null while it runs.'),
    recording_format: z.enum(FILE_FORMATS),
    recording_id: z.string(),
    recording_start_ms: msString('When the recording started, epoch milliseconds.'),
    recording_status: z.enum(['recording', 'paused', 'completed', 'failed']).meta({ description: 'State of the recording. A completed recording\'s file is at recording_url once sample_rate is set and its MPCRecordingCompleted event is sent: a moment after the stop, or once its storage takes the file. Beyond Plivo.' }),
    recording_type: z.enum(['mpc', 'participant']).meta({ description: 'Whether the whole MPC or one participant is recorded.' }),
    recording_url: z.string(),
    record_track_type: z.enum(RECORD_TRACK_TYPES).nullable().meta({ description: 'Track type of a participant recording. Beyond Plivo.' }),
    resource_uri: z.string(),
    sample_rate: z.number().int().nullable().meta({ description: 'Sample rate of the file: 8000, or 16000 when wideband audio was present. Null until the file is written. Beyond Plivo.' }),
    rounded_recording_duration: z.number().int().meta({ description: 'Recorded seconds rounded up to a multiple of 60.' }),
    recording_storage_duration: z.number().int().meta({ description: 'Whole days since the recording was added: what the recording_storage_duration filters compare.' }),
    recording_storage_rate: z.null().meta({ description: 'Always null: the gateway bills nothing.' }),
    monthly_recording_storage_amount: z.null().meta({ description: 'Always null: the gateway bills nothing.' }),
    to_number: z.string().nullable(),
  })
  .meta({ id: 'Recording', description: 'A recording of an MPC or of one participant.' });
export type Recording = z.infer<typeof RecordingSchema>;

export const RecordingResponseSchema = RecordingSchema.extend({ api_id: z.string() }).meta({ id: 'RecordingResponse' });

const storageDuration = (suffix: string) =>
  wireInt(`Days the recording has been stored${suffix} (0–36500).`, { min: 0, max: 36_500 }).optional();

export const ListRecordingsQuerySchema = PageQuerySchema.extend({
  call_uuid: z.string().optional().meta({ description: 'Only recordings of this call leg.' }),
  mpc_uuid: UuidSchema.optional().meta({ description: 'Only recordings of this MPC.' }),
  mpc_name: FriendlyNameSchema.optional().meta({ description: 'Only recordings of MPCs with this friendly name.' }),
  conference_name: z.string().optional().meta({ description: 'Same as mpc_name.' }),
  conference_uuid: UuidSchema.optional().meta({ description: 'Same as mpc_uuid.' }),
  from_number: z.string().optional(),
  to_number: z.string().optional(),
  subaccount: z.string().optional().meta({ description: 'Recordings of this subaccount. Subaccounts are not modelled: every recording is the main account\'s, so this filter matches none.' }),
  ...timeFilters('add_time'),
  recording_storage_duration: storageDuration(''),
  recording_storage_duration__gt: storageDuration(', more than'),
  recording_storage_duration__gte: storageDuration(', at least'),
  recording_storage_duration__lt: storageDuration(', less than'),
  recording_storage_duration__lte: storageDuration(', at most'),
});

export const RecordingListMetaSchema = z
  .object({
    limit: z.number().int(),
    next: z.string().nullable(),
    offset: z.number().int(),
    previous: z.string().nullable(),
    total_count: z.number().int(),
  })
  .meta({ id: 'RecordingListMeta' });

export const RecordingListSchema = z
  .object({ api_id: z.string(), meta: RecordingListMetaSchema, objects: z.array(RecordingSchema) })
  .meta({ id: 'RecordingList' });
