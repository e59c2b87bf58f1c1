import { operations, type HttpMethod, type Operation, type OperationId } from '@mpc/contracts';
import createClient from 'openapi-fetch';
import { MpcApiError } from './errors.js';
import type { paths } from './generated/openapi.js';
import type { MpcClient } from './operation-types.js';

export interface MpcClientOptions {
  /** Where the gateway listens, e.g. `https://mpc.example.com`; the `/v1/Account/...` paths are appended. */
  baseUrl: string;
  authId: string;
  authToken: string;
  /** Defaults to the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
}

interface AnyRequest {
  path?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
}

/**
 * openapi-fetch's request() as the table-driven calls use it. The table is walked at run time,
 * so the call site cannot be typed per operation; MpcClient carries those types instead.
 */
type UntypedRequest = (
  method: HttpMethod,
  path: string,
  init: {
    params: { path: Record<string, unknown>; query?: Record<string, unknown> };
    body?: unknown;
    parseAs: 'json' | 'stream';
  },
) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/**
 * A client for the gateway with one method per contract operation, e.g.
 * `client.startMpcRecording({ path: { mpc_id: 'name_standup' }, body: { file_format: 'wav' } })`.
 * Every method throws MpcApiError on a non-2xx answer.
 */
export function createMpcClient(options: MpcClientOptions): MpcClient {
  const http = createClient<paths>({
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    headers: { Authorization: basicAuthorization(options.authId, options.authToken) },
  });
  const request = http.request as unknown as UntypedRequest;

  const call = (operation: Operation) => async (input: AnyRequest = {}) => {
    const media = 'media' in operation.success;
    const { data, error, response } = await request(operation.method, operation.path, {
      params: { path: { ...input.path, auth_id: options.authId }, query: input.query },
      body: input.body,
      parseAs: media ? 'stream' : 'json',
    });
    if (!response.ok) throw MpcApiError.fromResponse(response, error);
    return media ? response : data;
  };

  const methods = {} as Record<OperationId, ReturnType<typeof call>>;
  for (const id of Object.keys(operations) as OperationId[]) methods[id] = call(operations[id]);
  return methods as MpcClient;
}

function basicAuthorization(authId: string, authToken: string): string {
  return `Basic ${Buffer.from(`${authId}:${authToken}`, 'utf8').toString('base64')}`;
}
