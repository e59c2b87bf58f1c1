import { z } from 'zod';

export const AuthIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not an auth_id')
  .meta({ description: 'Auth ID of the account.', example: 'MAXXXXXXXXXXXXXXXXXX' });

/** Friendly names travel inside a path segment, so the characters that would split the path are refused. */
export const FriendlyNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^/?#\\\u0000]+$/, 'may not contain /, ?, #, \\ or a NUL character');

/** A call leg's id: the gateway's are UUIDs, and a bound call may bring its own. */
export const CallUuidSchema = z.string().regex(/^[0-9A-Za-z-]{1,64}$/, 'is not a call uuid');

export type MpcRef = { friendlyName: string } | { uuid: string };

/** A UUID as the gateway issues them (MPC uuids, recording ids): 8-4-4-4-12 hex digits, either case. */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const UuidSchema = z.string().regex(UUID, 'is not a UUID');

export const MpcIdSchema = z
  .string()
  .transform((raw, ctx): MpcRef => {
    if (raw.startsWith('name_')) {
      const parsed = FriendlyNameSchema.safeParse(raw.slice('name_'.length));
      if (parsed.success) return { friendlyName: parsed.data };
      ctx.addIssue({ code: 'custom', message: `friendly name ${parsed.error.issues[0]?.message ?? 'is invalid'}` });
      return z.NEVER;
    }
    if (raw.startsWith('uuid_')) {
      const uuid = raw.slice('uuid_'.length);
      if (UUID.test(uuid)) return { uuid: uuid.toLowerCase() };
      ctx.addIssue({ code: 'custom', message: 'uuid_<mpc_uuid> takes the MPC\'s UUID' });
      return z.NEVER;
    }
    ctx.addIssue({ code: 'custom', message: 'must be name_<friendly_name> or uuid_<mpc_uuid>' });
    return z.NEVER;
  })
  .meta({
    description: 'The multiparty call: `name_<friendly_name>` (live calls) or `uuid_<mpc_uuid>`.',
    override: { type: 'string', pattern: '^(name|uuid)_.+$' },
    example: 'name_sales_standup',
  });

export const MemberIdSchema = z
  .string()
  .regex(/^\d{1,18}$/, 'must be a member id (digits)')
  .meta({ description: 'Member ID of the participant.', example: '355' });

/** Update and kick also take `all` or a comma-separated list of member ids. */
export const MemberSelectorSchema = z
  .string()
  .regex(/^(all|\d{1,18}(,\d{1,18})*)$/i, 'must be a member id, a comma-separated list of them, or all')
  .transform((raw) => (raw.toLowerCase() === 'all' ? ('all' as const) : raw.split(',')))
  .meta({
    description: 'A member ID, a comma-separated list of member IDs, or `all`.',
    override: { type: 'string', pattern: '^(all|\\d+(,\\d+)*)$' },
    example: '355',
  });

/** Recording ids are UUIDs; any other id names no recording, and is answered 404 as Plivo answers an unknown one. */
export const RecordingIdSchema = z
  .string()
  .min(1)
  .max(128)
  .meta({ description: 'Identifier of the recording, a UUID.', example: 'e06ac332-45dc-11eb-94fe-06dd7f581a50' });

export const isUuid = (value: string): boolean => UUID.test(value);
