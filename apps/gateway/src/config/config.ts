import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const MiB = 1024 * 1024;

/** Every setting, read from the environment once at start-up. README's configuration table mirrors it. */
export const ConfigSchema = z
  .object({
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(8080),
    PUBLIC_URL: httpUrl.optional(),
    DATA_DIR: z.string().min(1).default('.mpc-data'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
    STORAGE: z.enum(['fs', 's3']).default('fs'),
    S3_BUCKET: z.string().min(1).optional(),
    S3_ENDPOINT: httpUrl.optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_PREFIX: z.string().optional(),
    S3_FORCE_PATH_STYLE: boolean.default(false),
    // S3's smallest part but the last; its largest is 5 GiB.
    S3_PART_SIZE_BYTES: z.coerce.number().int().min(5 * MiB).max(5 * 1024 * MiB).default(5 * MiB),
    ACCOUNTS: z
      .string()
      .regex(/^([A-Za-z0-9_-]{1,64}:[^,:\s]{16,128})(,[A-Za-z0-9_-]{1,64}:[^,:\s]{16,128})*$/, 'must be auth_id:auth_token pairs separated by commas, tokens of 16 to 128 characters')
      .optional(),
    RATE_LIMIT_REQUESTS: z.coerce.number().int().min(0).default(300),
    RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1).default(5000),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    RECORDING_MEDIA_AUTH: boolean.default(false),
    DOWNLOAD_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
    SDK_PROXY: boolean.default(true),
    CALLBACK_ALLOW_PRIVATE: z.enum(['none', 'loopback', 'all']).default('none'),
    CALLBACK_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
    CALLBACK_HOST_CONCURRENCY: z.coerce.number().int().min(1).max(1024).optional(),
    MEDIA_JITTER_MS: z.coerce.number().int().min(20).max(1000).default(100),
    MEDIA_SHARDS: z.coerce.number().int().min(0).max(64).default(() => Math.min(8, availableParallelism())),
    ENCODER_THREADS: z.coerce.number().int().min(0).max(16).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  // `when` makes it run beside other bad variables, so one message names them all.
  .refine((env) => env.STORAGE !== 's3' || env.S3_BUCKET !== undefined, { path: ['S3_BUCKET'], message: 'is required when STORAGE is s3', when: () => true })
  .transform((env) => ({
    host: env.HOST,
    port: env.PORT,
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir: resolve(env.DATA_DIR),
    databaseUrl: env.DATABASE_URL,
    storage:
      env.STORAGE === 's3'
        ? {
            kind: 's3' as const,
            bucket: env.S3_BUCKET!,
            endpoint: env.S3_ENDPOINT,
            region: env.S3_REGION,
            prefix: env.S3_PREFIX ?? '',
            forcePathStyle: env.S3_FORCE_PATH_STYLE,
            partSizeBytes: env.S3_PART_SIZE_BYTES,
          }
        : { kind: 'fs' as const },
    accounts: (env.ACCOUNTS?.split(',') ?? []).map((pair) => {
      const [authId, authToken] = pair.split(':') as [string, string];
      return { authId, authToken };
    }),
    rateLimit: { requests: env.RATE_LIMIT_REQUESTS, windowMs: env.RATE_LIMIT_WINDOW_MS },
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    recordingMediaAuth: env.RECORDING_MEDIA_AUTH,
    downloadIdleMs: env.DOWNLOAD_IDLE_TIMEOUT_MS,
    sdkProxy: env.SDK_PROXY,
    jitterMs: env.MEDIA_JITTER_MS,
    mediaShards: env.MEDIA_SHARDS,
    // Per process that mixes: the cores beside the event loop, shared among the shards when there are several.
    encoderThreads: env.ENCODER_THREADS ?? (env.MEDIA_SHARDS > 0 ? 1 : Math.min(4, Math.max(1, availableParallelism() - 1))),
    callbacks: {
      access: env.CALLBACK_ALLOW_PRIVATE,
      concurrency: env.CALLBACK_CONCURRENCY,
      // All but an eighth by default: a receiver that hangs leaves that eighth to everyone else, and
      // a single busy one keeps nearly every slot (at half, one receiver's drain lost a quarter to a third).
      hostConcurrency: Math.min(env.CALLBACK_CONCURRENCY, env.CALLBACK_HOST_CONCURRENCY ?? Math.max(1, env.CALLBACK_CONCURRENCY - Math.ceil(env.CALLBACK_CONCURRENCY / 8))),
    },
    logLevel: env.LOG_LEVEL,
  }));

export type Config = z.output<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** Variables that may hold a password or token: an error about them does not repeat their value. */
const SECRET_VARIABLES = new Set(['ACCOUNTS', 'DATABASE_URL']);

/** Parses the environment; a bad value throws one error naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const relevant = Object.fromEntries(
    // Blank counts as unset: a number read from `' '` would be 0 (no rate limit, a random port).
    Object.keys(ConfigSchema.in.shape).map((key) => [key, env[key]?.trim() === '' ? undefined : env[key]]),
  );
  const result = ConfigSchema.safeParse(relevant);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    const given = SECRET_VARIABLES.has(name) ? undefined : relevant[name];
    return `  ${issue.path.join('.')}: ${issue.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
