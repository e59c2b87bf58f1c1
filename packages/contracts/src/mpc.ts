import { z } from 'zod';
import { CallbackUrlSchema, FilterTimeSchema, HttpMethodSchema, PlivoTimestampSchema, timeFilters, wireBoolean, wireEnum, wireInt } from './wire.js';
import { CallUuidSchema, FriendlyNameSchema } from './ids.js';

export const MPC_STATUSES = ['Initialized', 'Active', 'Ended'] as const;
export const ROLES = ['Agent', 'Supervisor', 'Customer', 'AI-Agent'] as const;
export type Role = (typeof ROLES)[number];

export const TERMINATION_CAUSES = {
  1000: 'No Active Participants',
  1010: 'Stay Alone Not Permitted',
  2000: 'Max Duration Reached',
  3000: 'Hangup API Triggered',
} as const;
export type TerminationCauseCode = keyof typeof TERMINATION_CAUSES;

export const EXIT_CAUSES = [
  'Participant Call Hangup',
  'Kicked Out of Multiparty Call',
  'Multiparty Call Ended',
  'Participant Call Transferred',
] as const;

export const MpcRecordingStatusSchema = z
  .enum(['recording', 'not-recording', 'paused'])
  .meta({ description: 'State of the MPC-level recording.' });

export const MpcSchema = z
  .object({
    billed_amount: z.string().nullable().meta({ description: 'Always null: the gateway bills nothing.' }),
    billed_duration: z.number().int().nullable().meta({ description: 'Always null: the gateway bills nothing.' }),
    creation_time: PlivoTimestampSchema.meta({ description: 'When the MPC was created.' }),
    duration: z.number().int().nullable().meta({ description: 'Seconds between start and end; null until the MPC ends.' }),
    end_time: PlivoTimestampSchema.nullable().meta({ description: 'When the MPC ended; null while it lives.' }),
    friendly_name: z.string().meta({ description: 'Friendly name given when the MPC was created.' }),
    max_duration: z.number().int().meta({ description: 'Longest the MPC may last, in seconds.' }),
    max_participants: z.number().int().meta({ description: 'Most participants the MPC admits.' }),
    mpc_uuid: z.string().meta({ description: 'Unique ID of the MPC.' }),
    participants: z.string().meta({ description: 'Resource URI of the MPC\'s participant list.' }),
    recording: MpcRecordingStatusSchema,
    resource_uri: z.string().meta({ description: 'Resource URI of the MPC.' }),
    start_time: PlivoTimestampSchema.nullable().meta({ description: 'When the MPC became active; null while initialized.' }),
    status: z.enum(MPC_STATUSES).meta({ description: 'Lifecycle state of the MPC.' }),
    stay_alone: z.boolean().meta({ description: 'Whether a single remaining participant keeps the MPC alive.' }),
    sub_account: z.string().nullable().meta({ description: 'Always null: subaccounts are not modelled.' }),
    termination_cause: z.enum(Object.values(TERMINATION_CAUSES) as [string, ...string[]]).nullable().meta({ description: 'Why the MPC ended.' }),
    termination_cause_code: z.number().int().nullable().meta({ description: '1000, 1010, 2000 or 3000; see termination_cause.' }),
  })
  .meta({ id: 'MultiPartyCall', description: 'A multiparty call.' });
export type Mpc = z.infer<typeof MpcSchema>;

export const ParticipantSchema = z
  .object({
    billed_amount: z.string().nullable().meta({ description: 'Always null.' }),
    billed_duration: z.number().int().nullable().meta({ description: 'Always null.' }),
    call_uuid: z.string().meta({ description: 'The call leg of this participant; its media stream carries it.' }),
    coach_mode: z.boolean().nullable().meta({ description: 'Supervisor coaching: heard by agents only. The recording includes a supervisor whatever this says.' }),
    duration: z.number().int().nullable().meta({ description: 'Seconds in the MPC; null while present.' }),
    end_mpc_on_exit: z.boolean().meta({ description: 'Whether this participant leaving ends the MPC.' }),
    exit_cause: z.enum(EXIT_CAUSES).nullable().meta({ description: 'Why the participant left; null while present.' }),
    exit_time: PlivoTimestampSchema.nullable().meta({ description: 'When the participant left.' }),
    hold: z.boolean().nullable().meta({ description: 'On hold: neither heard nor recorded. Null once exited.' }),
    join_time: PlivoTimestampSchema.meta({ description: 'When the participant joined.' }),
    member_id: z.string().meta({ description: 'Member ID, unique within the gateway.' }),
    mpc_uuid: z.string().meta({ description: 'The MPC this participant belongs to.' }),
    mute: z.boolean().nullable().meta({ description: 'Muted: not heard and not recorded. Null once exited.' }),
    resource_uri: z.string().meta({ description: 'Resource URI of the participant.' }),
    role: z.enum(['agent', 'supervisor', 'customer', 'ai-agent']).meta({ description: 'Role, lower-case as Plivo reports it.' }),
    start_mpc_on_enter: z.boolean().meta({ description: 'Whether this participant joining activates the MPC.' }),
  })
  .meta({ id: 'Participant', description: 'A participant of a multiparty call.' });
export type Participant = z.infer<typeof ParticipantSchema>;

const method = (what: string, fallback: 'GET' | 'POST') =>
  HttpMethodSchema.default(fallback).meta({ description: `HTTP verb used to invoke ${what}. Defaults to ${fallback}.` });

/** The most destinations one `to` may ring at once, separated by `<` (role Agent only). */
export const MAX_DESTINATIONS = 20;

export const STATUS_CALLBACK_EVENTS = [
  'mpc-state-changes',
  'participant-state-changes',
  'participant-speak-events',
  'participant-digit-input-events',
  'add-participant-api-events',
] as const;

/** A parameter the gateway validates as Plivo does but has no use for: it never dials nor plays audio. */
const unused = <T extends z.ZodType>(schema: T, description: string) =>
  schema.optional().meta({ description: `${description} Validated as Plivo does; the gateway never dials nor plays audio.` });

/** One of a few keywords (any case), or an absolute http(s) URL to fetch audio from. */
const soundSchema = (keywords: readonly string[]) =>
  z.string().refine(
    (value) => keywords.includes(value.toLowerCase()) || CallbackUrlSchema.safeParse(value).success,
    `must be ${keywords.join(', ')} or an absolute http or https URL`,
  );

export const AddParticipantBodySchema = z
  .object({
    role: wireEnum(ROLES, 'Role of the participant: Agent, Supervisor, Customer, or AI-Agent (which the Python SDK allows; recorded as any other participant).'),
    from: z.string().min(1).max(64).optional().meta({ description: 'Caller ID for the leg. Required with `to` unless `call_uuid` is given.' }),
    to: z.string().min(1).max(1024).optional().meta({ description: 'Destination of the leg. The gateway never dials: it registers the participant and returns a generated call_uuid that the participant\'s media stream must carry.' }),
    call_uuid: CallUuidSchema.optional().meta({ description: 'An existing call to bind into the MPC; its media stream carries this id.' }),
    caller_name: z.string().min(1).max(50).optional().meta({ description: 'Caller name for the leg.' }),
    coach_mode: wireBoolean('Supervisor coaching mode. The recording includes the supervisor regardless.').default(true),
    mute: wireBoolean('Join muted.').default(false),
    hold: wireBoolean('Join on hold.').default(false),
    start_mpc_on_enter: wireBoolean('Activate the MPC when this participant joins.').default(true),
    end_mpc_on_exit: wireBoolean('End the MPC when this participant leaves.').default(false),
    stay_alone: wireBoolean('Let the MPC continue with this participant alone.').default(false),
    max_duration: wireInt('Longest the MPC may last, in seconds (300–28800).', { min: 300, max: 28800 }).default(14400),
    max_participants: wireInt('Most participants the MPC admits (2–10).', { min: 2, max: 10 }).default(10),
    record: wireBoolean('Start an MPC recording when this participant joins.').default(false),
    record_file_format: wireEnum(['mp3', 'wav'] as const, 'Format of that recording.').default('mp3'),
    record_min_member_count: wireInt('With `record`, how many participants must be present before the recording starts (1–2).', { min: 1, max: 2 }).default(1),
    recording_callback_url: CallbackUrlSchema.optional().meta({ description: 'URL to which that recording\'s events are sent.' }),
    recording_callback_method: method('recording_callback_url', 'GET'),
    status_callback_url: CallbackUrlSchema.optional().meta({ description: 'Accepted for compatibility; MPC status callbacks are not sent.' }),
    status_callback_method: method('status_callback_url', 'GET'),
    status_callback_events: unused(
      z.string().refine(
        (value) => value.split(',').every((event) => (STATUS_CALLBACK_EVENTS as readonly string[]).includes(event.trim())),
        `must be a comma-separated list of ${STATUS_CALLBACK_EVENTS.join(', ')}`,
      ),
      'Events to send to status_callback_url.',
    ),
    confirm_key: unused(z.string().regex(/^[0-9#*]$/, 'must be one of 0-9, # or *'), 'Key the callee presses to accept the call.'),
    dial_music: unused(soundSchema(['real', 'none']), '`real`, `none` or a URL: what the caller hears while the leg rings.'),
    enter_sound: unused(soundSchema(['beep:1', 'beep:2', 'none']), '`beep:1`, `beep:2`, `none` or a URL: played when the participant joins.'),
    exit_sound: unused(soundSchema(['beep:1', 'beep:2', 'none']), '`beep:1`, `beep:2`, `none` or a URL: played when the participant leaves.'),
  })
  .refine((body) => body.to === undefined || !body.to.includes('<') || body.role === 'Agent', {
    message: 'several destinations (separated by <) are allowed for role Agent only',
    path: ['to'],
  })
  .refine((body) => body.to === undefined || body.to.split('<').length <= MAX_DESTINATIONS, {
    message: `at most ${MAX_DESTINATIONS} destinations`,
    path: ['to'],
  })
  .refine((body) => body.call_uuid !== undefined || (body.from !== undefined && body.to !== undefined), {
    message: 'from and to are required unless call_uuid is given',
  })
  .refine((body) => body.call_uuid === undefined || (body.from === undefined && body.to === undefined), {
    message: 'call_uuid cannot be combined with from and to',
  })
  .meta({
    id: 'AddParticipantRequest',
    description: 'Adds a participant, creating the MPC when no live MPC has that name. Unknown keys are ignored.',
    example: { role: 'Agent', from: '+14155550100', to: '+14155550101' },
  });
export type AddParticipantBody = z.infer<typeof AddParticipantBodySchema>;

export const AddParticipantResponseSchema = z
  .object({
    api_id: z.string(),
    calls: z.array(
      z.object({
        to: z.string().optional(),
        from: z.string().optional(),
        call_uuid: z.string().meta({ description: 'The call leg; the participant\'s media stream must carry it.' }),
        stream_url: z.string().optional().meta({
          description:
            'Beyond Plivo: the WebSocket URL where this participant\'s media stream is accepted without other credentials (the token is in the path, since some platforms strip query strings).',
        }),
      }),
    ),
    message: z.string(),
    request_uuid: z.string(),
  })
  .meta({ id: 'AddParticipantResponse' });

export const ActivateMpcBodySchema = z
  .object({ status: wireEnum(['active'] as const, 'Must be `active`.') })
  .meta({ id: 'ActivateMpcRequest', example: { status: 'active' } });

export const PageQuerySchema = z.object({
  limit: wireInt('Page size, 1–20.', { min: 1, max: 20 }).default(20),
  offset: wireInt('Number of objects to skip.', { min: 0 }).default(0),
});

export const ListMpcsQuerySchema = PageQuerySchema.extend({
  sub_account: z.string().optional().meta({ description: 'MPCs of this subaccount. Subaccounts are not modelled: every MPC is the main account\'s, so this filter matches none.' }),
  friendly_name: FriendlyNameSchema.optional().meta({ description: 'Only MPCs with this friendly name.' }),
  status: wireEnum(['initialized', 'active', 'ended'] as const, 'Only MPCs in this state.').optional(),
  termination_cause_code: wireInt('Only MPCs that ended with this code (1000, 1010, 2000 or 3000).', { min: 0, max: 9999 }).optional(),
  ...timeFilters('end_time'),
  ...timeFilters('creation_time'),
  // The Node SDK sends creation_time__gt as creation_time_gt (one underscore).
  ...Object.fromEntries(
    (['gt', 'gte', 'lt', 'lte'] as const).map((op) => [`creation_time_${op}`, FilterTimeSchema.optional().meta({ description: `Same as creation_time__${op}, the spelling the Node SDK sends.` })]),
  ),
}).meta({ id: 'ListMpcsQuery' });

export const ListMetaSchema = z
  .object({
    count: z.number().int(),
    limit: z.number().int(),
    next: z.string().nullable(),
    offset: z.number().int(),
    previous: z.string().nullable(),
  })
  .meta({ id: 'ListMeta', description: 'Paging of a list: count of all matches, and links to the neighbouring pages.' });

export const MpcListSchema = z
  .object({ api_id: z.string(), meta: ListMetaSchema, objects: z.array(MpcSchema) })
  .meta({ id: 'MultiPartyCallList' });

export const MpcResponseSchema = MpcSchema.extend({ api_id: z.string() }).meta({ id: 'MultiPartyCallResponse' });

export const ListParticipantsQuerySchema = PageQuerySchema.extend({
  call_uuid: z.string().optional().meta({ description: 'Only the participant on this call leg.' }),
})
  .meta({ id: 'ListParticipantsQuery' });

export const ParticipantListSchema = z
  .object({ api_id: z.string(), meta: ListMetaSchema, objects: z.array(ParticipantSchema) })
  .meta({ id: 'ParticipantList' });

export const ParticipantResponseSchema = ParticipantSchema.extend({ api_id: z.string() }).meta({ id: 'ParticipantResponse' });

export const UpdateParticipantBodySchema = z
  .object({
    mute: wireBoolean('Mute or unmute. A muted participant is not recorded.').optional(),
    hold: wireBoolean('Hold or unhold. A participant on hold is not recorded.').optional(),
    coach_mode: wireBoolean('Coach mode of a supervisor. Not allowed with member `all`.').optional(),
  })
  .refine((body) => body.mute !== undefined || body.hold !== undefined || body.coach_mode !== undefined, {
    message: 'one of mute, hold or coach_mode is required',
  })
  .meta({ id: 'UpdateParticipantRequest', example: { mute: true } });

export const UpdateParticipantResponseSchema = z
  .object({
    api_id: z.string(),
    mute: z.string().optional(),
    hold: z.string().optional(),
    coach_mode: z.string().optional(),
  })
  .meta({ id: 'UpdateParticipantResponse', description: 'One message per parameter that was passed.' });
