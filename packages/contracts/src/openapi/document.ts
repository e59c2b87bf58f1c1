import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ErrorBodySchema } from '../errors.js';
import { MpcRecordingCallbackSchema, ParticipantRecordingCallbackSchema } from '../callbacks.js';
import { operations, type Operation } from '../operations.js';

const ERROR_TEXT: Record<number, string> = {
  400: 'A parameter is missing or invalid, or the request does not fit the current state.',
  401: 'Authentication failed, or the path names another account.',
  404: 'No such resource in this account.',
  405: 'The path exists but not with this method.',
  413: 'The request body is too large.',
  429: 'Too many requests for this account; slow down.',
  503: 'The PostgreSQL server the gateway uses, or for a recording file its storage, cannot be reached or cannot serve; try again after Retry-After.',
};

const callbackPayloads = {
  mpcRecording: MpcRecordingCallbackSchema,
  participantRecording: ParticipantRecordingCallbackSchema,
};

function callbacksOf(operation: Operation): ZodOpenApiOperationObject['callbacks'] {
  if (!operation.callbacks) return undefined;
  const payload = callbackPayloads[operation.callbacks];
  const delivery = {
    summary: 'Recording status event',
    description:
      'Signed with X-Plivo-Signature-V3, X-Plivo-Signature-Ma-V3 and X-Plivo-Signature-V3-Nonce. Form-encoded for POST; the same parameters in the query string for GET.',
    responses: {
      '200': { description: 'Any 2xx acknowledges the event.' },
      '4XX': { description: 'Not acknowledged; retried when the URL fragment says so (`rp=4xx`).' },
    },
  };
  return {
    recordingEvent: {
      '{$request.body#/recording_callback_url}': {
        post: { ...delivery, requestBody: { content: { 'application/x-www-form-urlencoded': { schema: payload } } } },
        get: { ...delivery, requestParams: { query: payload } },
      },
    },
  };
}

function toOpenApiOperation(id: string, operation: Operation): ZodOpenApiOperationObject {
  const success = operation.success;
  const responses: Record<string, object> = {};
  if ('schema' in success) {
    responses[String(success.status)] = { description: success.description, content: { 'application/json': { schema: success.schema } } };
  } else if ('media' in success) {
    responses['200'] = {
      description: success.description,
      content: {
        'audio/mpeg': { schema: { type: 'string', format: 'binary' } },
        'audio/wav': { schema: { type: 'string', format: 'binary' } },
      },
    };
    responses['206'] = { description: 'The requested byte range of the file.' };
  } else {
    responses['204'] = { description: success.description };
  }
  for (const status of [...operation.errors, 401, 405, 429, 503].sort()) {
    responses[String(status)] = { description: ERROR_TEXT[status], content: { 'application/json': { schema: ErrorBodySchema } } };
  }
  return {
    operationId: id,
    tags: [operation.tag],
    summary: operation.summary,
    description: operation.description,
    requestParams: operation.query ? { path: operation.params, query: operation.query } : { path: operation.params },
    requestBody: operation.body
      ? {
          required: false,
          content: {
            'application/json': { schema: operation.body },
            'application/x-www-form-urlencoded': { schema: operation.body },
          },
        }
      : undefined,
    responses: responses as ZodOpenApiOperationObject['responses'],
    callbacks: callbacksOf(operation),
    ...(operation.beyondPlivo && { 'x-beyond-plivo': true }),
  };
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: ZodOpenApiPathsObject = {};
  for (const [id, operation] of Object.entries(operations) as [string, Operation][]) {
    paths[operation.path] = { ...paths[operation.path], [operation.method]: toOpenApiOperation(id, operation) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'MPC recording gateway',
      version: '1.0.0',
      description:
        "Records multiparty calls. Speaks Plivo's MultiPartyCall and Recording API on the wire, so the official Plivo SDKs work against it unchanged. Authenticate with HTTP Basic: your auth_id and auth_token.",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'This gateway' }],
    security: [{ basicAuth: [] }],
    tags: [
      { name: 'MultiPartyCall', description: 'Multiparty calls and their recording.' },
      { name: 'Participant', description: 'Participants and participant-level recording.' },
      { name: 'Recording', description: 'Recordings and their files.' },
    ],
    components: {
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic', description: 'auth_id as user name, auth_token as password.' } },
    },
    paths,
  }) as unknown as Record<string, unknown>;
}

/** Objects with their keys sorted, so the written document only changes when its content does. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeysDeep((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export function renderOpenApiDocument(): string {
  return `${JSON.stringify(sortKeysDeep(buildOpenApiDocument()), null, 2)}\n`;
}
