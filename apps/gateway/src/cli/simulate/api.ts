import { MpcApiError } from '@mpc/client';

/** A failed API call, with Plivo's error text and the step it failed in. */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';

  constructor(
    readonly step: string,
    readonly apiError: MpcApiError,
  ) {
    super(`${step}: ${apiError.message} (HTTP ${apiError.status}${apiError.apiId ? `, api_id ${apiError.apiId}` : ''})`);
  }
}

/** The gateway did not answer at all. */
export class GatewayUnreachable extends Error {
  override readonly name = 'GatewayUnreachable';
}

/**
 * Runs one API call, naming the step in any failure: Plivo's error text for an error answer, a
 * hint to start the gateway when nothing answers.
 */
export async function step<T>(name: string, baseUrl: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof MpcApiError) throw new ApiFailure(name, error);
    if (error instanceof TypeError && error.message === 'fetch failed') {
      const reason = error.cause instanceof Error ? error.cause.message : 'no answer';
      throw new GatewayUnreachable(`${name}: cannot reach the gateway at ${baseUrl} (${reason}). Is it running? Start it with: pnpm start`);
    }
    throw error;
  }
}

/** Runs a call and answers when it took effect, as well as the client can tell: halfway through it. */
export async function timed<T>(call: () => Promise<T>): Promise<{ at: number; result: T }> {
  const before = performance.now();
  const result = await call();
  return { at: (before + performance.now()) / 2, result };
}
