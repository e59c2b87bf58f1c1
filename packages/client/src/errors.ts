/** A non-2xx answer from the gateway. `message` is Plivo's `error` text. */
export class MpcApiError extends Error {
  override readonly name = 'MpcApiError';

  constructor(
    readonly status: number,
    message: string,
    /** The `api_id` of the failed request, when the body carried one. */
    readonly apiId?: string,
  ) {
    super(message);
  }

  /** `body` is the error body as openapi-fetch read it: parsed JSON, else the raw text. */
  static fromResponse(response: Response, body: unknown): MpcApiError {
    if (isPlivoError(body)) return new MpcApiError(response.status, body.error, body.api_id);
    const text = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
    return new MpcApiError(response.status, text || `${response.status} ${response.statusText}`.trim());
  }
}

/** A callback whose signature does not match. */
export class SignatureVerificationError extends Error {
  override readonly name = 'SignatureVerificationError';

  constructor(message = 'The X-Plivo-Signature-V3 signature does not match') {
    super(message);
  }
}

function isPlivoError(body: unknown): body is { error: string; api_id?: string } {
  if (typeof body !== 'object' || body === null) return false;
  const { error, api_id } = body as Record<string, unknown>;
  return typeof error === 'string' && (api_id === undefined || typeof api_id === 'string');
}
