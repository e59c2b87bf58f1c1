import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { newNonce, signV3 } from '@mpc/client';
import { isIP } from 'node:net';
import { reasonOf } from '../common/reason-of.js';
import { AddressRefused, allowed, guardedLookup, nonPublicRange, type PrivateAccess } from './address-guard.js';
import type { AttemptOutcome, RetryPolicy } from './retry-policy.js';

/** How much of an answer's body is read, to leave its connection reusable, before it is cut. */
const MAX_BODY_READ_BYTES = 64 * 1024;

export interface Delivery {
  /** The URL to call, fragment already removed. */
  url: string;
  method: 'GET' | 'POST';
  params: Record<string, string>;
  authToken: string;
  policy: RetryPolicy;
}

const agents = new Map<string, HttpAgent>();

/** How long a kept-alive connection to a receiver may stay idle before it is closed. */
export const IDLE_CONNECTION_MS = 10_000;

/**
 * Connections to receivers are kept alive and reused, unless a fresh one is asked for; each new one
 * is checked, address by address, as it is made, so reuse never skips the check.
 */
function agentFor(protocol: string, access: PrivateAccess, fresh: boolean): HttpAgent {
  const key = `${protocol}${access}${fresh ? 'fresh' : ''}`;
  let agent = agents.get(key);
  if (!agent) {
    // No socket limit: the dispatcher bounds concurrency, and a request queued for a socket would time out as a connect failure.
    // Idle connections are closed after a while: a receiver that never closes them would hold some for good, per receiver.
    const options = { keepAlive: !fresh, timeout: IDLE_CONNECTION_MS, lookup: guardedLookup(access) };
    agent = protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
    agents.set(key, agent);
  }
  return agent;
}

/** Where a signed request goes and what it carries, built once per attempt (fresh nonce). */
export function signedRequest({ url, method, params, authToken }: Omit<Delivery, 'policy'>) {
  const nonce = newNonce();
  const signature = signV3({ method, url, nonce, authToken, params });
  const headers: Record<string, string> = {
    'X-Plivo-Signature-V3': signature,
    'X-Plivo-Signature-Ma-V3': signature,
    'X-Plivo-Signature-V3-Nonce': nonce,
    'User-Agent': 'mpc-recording-gateway',
  };
  if (method === 'GET') {
    // The registered query string is kept byte for byte; the event's parameters follow it.
    const query = new URLSearchParams(params).toString();
    return { target: `${url}${url.includes('?') ? '&' : '?'}${query}`, headers, body: undefined };
  }
  headers['Content-Type'] = 'application/x-www-form-urlencoded';
  return { target: url, headers, body: new URLSearchParams(params).toString() };
}

/** A kept-alive connection was reset before its answer came: the receiver may have closed it while idle. */
const STALE = Symbol('stale connection');

/**
 * One attempt: connect within ct, get the answer within rt, all within tt. Redirects are not
 * followed (a 3xx is an answer that does not acknowledge the event). A reused connection that is
 * reset before it is answered cannot tell a receiver that closed it while idle from one that
 * dropped the request, so the request goes once more, freshly signed, on a new connection, within
 * the same total timeout; what that one meets is the attempt's outcome.
 */
export async function attemptDelivery(delivery: Delivery, access: PrivateAccess, signal?: AbortSignal): Promise<AttemptOutcome> {
  try {
    const deadline = performance.now() + delivery.policy.totalTimeoutMs;
    const outcome = await sendAttempt(delivery, access, { fresh: false, deadline, signal });
    if (outcome !== STALE) return outcome;
    // A new connection is not a reused one, so it cannot come back stale.
    return (await sendAttempt(delivery, access, { fresh: true, deadline, signal })) as AttemptOutcome;
  } catch (error) {
    // Whatever the request could not even be made of (a URL Node's client will not send) is this
    // attempt's outcome, logged as such, rather than an error that leaves the event due at once.
    return { kind: 'refused', error: `the request could not be made: ${reasonOf(error)}` };
  }
}

interface SendOptions {
  /** A new connection rather than a kept-alive one. */
  fresh: boolean;
  /** When the attempt's total timeout ends, on performance.now()'s clock. */
  deadline: number;
  signal: AbortSignal | undefined;
}

function sendAttempt(delivery: Delivery, access: PrivateAccess, { fresh, deadline, signal }: SendOptions): Promise<AttemptOutcome | typeof STALE> {
  const { target, headers, body } = signedRequest(delivery);
  const { policy } = delivery;
  const url = new URL(target);
  // An address literal skips lookup, so it is checked here.
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !allowed(literal, access)) {
    return Promise.resolve({ kind: 'refused', error: `${literal} is a ${nonPublicRange(literal)} address` });
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const request = send(url, {
    method: delivery.method,
    headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
    agent: agentFor(url.protocol, access, fresh),
  });
  return new Promise<AttemptOutcome | typeof STALE>((resolve) => {
    let settled = false;
    /** The status line, once it came: it is the answer, whatever becomes of the body after it. */
    let status: number | undefined;
    const finish = (outcome: AttemptOutcome | typeof STALE) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      signal?.removeEventListener('abort', cut);
      // A request answered to its end leaves its connection to the agent for reuse; anything else is cut.
      if (outcome === STALE || outcome.kind !== 'status') request.destroy();
      resolve(status === undefined ? outcome : { kind: 'status', status });
    };
    const connectTimer = setTimeout(() => finish({ kind: 'ct', error: `no connection within ${policy.connectTimeoutMs} ms` }), policy.connectTimeoutMs);
    const totalTimer = setTimeout(
      () => finish({ kind: 'rt', error: `no answer within the total timeout of ${policy.totalTimeoutMs} ms` }),
      Math.max(0, deadline - performance.now()),
    );
    const cut = () => finish({ kind: 'rt', error: 'cut off: the gateway is stopping' });
    if (signal?.aborted) cut();
    else signal?.addEventListener('abort', cut);
    let connected = false;
    request.on('socket', (socket) => {
      const onConnect = () => {
        connected = true;
        clearTimeout(connectTimer);
        request.setTimeout(policy.readTimeoutMs, () => finish({ kind: 'rt', error: `no answer within ${policy.readTimeoutMs} ms` }));
      };
      if (socket.connecting) socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', onConnect);
      else onConnect();
    });
    request.on('response', (response) => {
      status = response.statusCode ?? 0;
      // The body is read to its end, so the connection can serve again, but no further than
      // MAX_BODY_READ_BYTES nor past the timeouts: then the connection is cut, the event answered all the same.
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_BODY_READ_BYTES) finish({ kind: 'rt', error: 'an answer longer than its connection is kept for' });
      });
      response.on('end', () => finish({ kind: 'status', status: status! }));
      response.on('error', (error) => finish({ kind: 'rt', error: error.message }));
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof AddressRefused) return finish({ kind: 'refused', error: error.message });
      if (error.code === 'ECONNRESET' && request.reusedSocket && status === undefined) return finish(STALE);
      // A reset counts as a failure to connect only where the connection was not made yet.
      const connectFailure = (error.code === 'ECONNRESET' && !connected) || ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(error.code ?? '');
      finish({ kind: connectFailure ? 'ct' : 'rt', error: error.code ?? error.message });
    });
    if (body === undefined) request.end();
    else request.end(body);
  });
}
