import { z } from 'zod';

/**
 * Plivo's SDKs send the same parameter in several spellings: booleans as `true`, `"true"` or
 * `"True"`, numbers as numbers or numeric strings, enum values in any case. These helpers accept
 * every spelling on the way in and hand the gateway one canonical value.
 */

const BOOLEAN_SPELLINGS = ['true', 'false', 'True', 'False', 'TRUE', 'FALSE'] as const;

export const wireBoolean = (description: string) =>
  z
    .union([z.boolean(), z.enum(BOOLEAN_SPELLINGS)])
    .transform((value) => (typeof value === 'boolean' ? value : value.toLowerCase() === 'true'))
    .meta({ description });

export const wireInt = (description: string, bounds: { min?: number; max?: number } = {}) => {
  let int = z.number().int();
  if (bounds.min !== undefined) int = int.min(bounds.min);
  if (bounds.max !== undefined) int = int.max(bounds.max);
  return z
    .union([int, z.string().regex(/^-?\d+$/, 'must be an integer').transform(Number).pipe(int)])
    .meta({ description });
};

/** An enumeration matched case-insensitively and answered in its canonical spelling. */
export const wireEnum = <const T extends readonly [string, ...string[]]>(values: T, description: string) =>
  z
    .string()
    .transform((raw, ctx): T[number] => {
      const match = values.find((value) => value.toLowerCase() === raw.toLowerCase());
      if (match === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}` });
        return z.NEVER;
      }
      return match;
    })
    .meta({
      description: `${description} Matched case-insensitively.`,
      override: { type: 'string', enum: [...values] },
    });

export const HttpMethodSchema = wireEnum(['GET', 'POST'] as const, 'HTTP verb.');

/** Whether `text` (a URL's user name or password) decodes, as an HTTP client must do to send it. */
function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** An absolute http(s) URL, as Plivo accepts for callback parameters. */
export const CallbackUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, { message: 'must be an absolute http or https URL', abort: true })
  .refine((value) => {
    const { username, password } = new URL(value);
    return decodes(username) && decodes(password);
  }, 'has a user name or password with an escape that is no UTF-8 (such as %zz)');

/** `YYYY-MM-DD HH:mm:ss+hh:mm`, Plivo's timestamp format. */
export const PlivoTimestampSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/)
  .meta({ description: 'Timestamp, `YYYY-MM-DD HH:mm:ss+hh:mm`.', example: '2026-01-05 09:20:03+00:00' });

/** Whether a time of that shape names a moment: a date parser rolls 2021-02-29 over to March, or gives up on month 13. */
function isRealTime(value: string): boolean {
  const date = new Date(`${value.replace(' ', 'T')}Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 16) === value.slice(0, 16).replace(' ', 'T');
}

/** Filter timestamps Plivo accepts in list queries: `YYYY-MM-DD HH:MM[:ss[.uuuuuu]]`, UTC. */
export const FilterTimeSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/, 'must be YYYY-MM-DD HH:MM[:ss[.uuuuuu]]')
  .refine(isRealTime, 'is not a real date and time')
  .meta({ description: 'UTC time, `YYYY-MM-DD HH:MM[:ss[.uuuuuu]]`, e.g. `2026-01-05 09:20`.' });

type Comparison = 'gt' | 'gte' | 'lt' | 'lte';

/** The `<field>__gt|gte|lt|lte` time filters Plivo's list queries take. */
export const timeFilters = <F extends string>(field: F) =>
  Object.fromEntries((['gt', 'gte', 'lt', 'lte'] as const).map((op) => [`${field}__${op}`, FilterTimeSchema.optional()])) as Record<
    `${F}__${Comparison}`,
    z.ZodOptional<typeof FilterTimeSchema>
  >;
