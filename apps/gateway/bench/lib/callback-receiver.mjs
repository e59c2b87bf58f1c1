// A local receiver for recording status callbacks, built for throughput: it notes the arrival
// time (performance.now(), the bench clock) and the few parameters the bench checks, answers 200
// at once, and does nothing heavy per request. In "hold" mode it accepts requests but answers none
// of them until release(), so a backlog builds up in the gateway's outbox.
//
// Signatures are not checked per request (that would cost the receiver CPU during the drain);
// the first few requests are kept whole so the bench can check their X-Plivo-Signature-V3 after
// the measurement.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { verifyV3 } from '@mpc/client';

const MAX_BODY_BYTES = 64 * 1024;

/**
 * @typedef {{ recordingUuid: string, sequence: number, event: string, at: number, held: boolean }} Arrival
 *   at: performance.now() when the request's headers were parsed; held: it arrived in hold mode.
 */

export class CallbackReceiver {
  /** @type {Arrival[]} every request, in arrival order (duplicates included) */
  arrivals = [];
  /** Distinct `${RecordingUUID}:${SequenceNumber}` keys that arrived. */
  unique = new Set();
  /** performance.now() of the latest arrival of a key not seen before. */
  lastNewAt = null;
  /** Requests that were not a well-formed recording callback. */
  malformed = 0;
  /** Requests kept whole for the signature check. */
  samples = [];
  #sampleLimit;
  #holding = false;
  /** @type {import('node:http').ServerResponse[]} */
  #held = [];
  #waiters = new Set();
  #server;
  #path = '/cb';

  constructor({ sampleLimit = 50 } = {}) {
    this.#sampleLimit = sampleLimit;
    this.#server = createServer({ keepAliveTimeout: 5000 }, (request, response) => this.#onRequest(request, response));
  }

  async start() {
    await new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.#server.address().port}${this.#path}`;
  }

  /** From now on requests are accepted but left unanswered. */
  hold() {
    this.#holding = true;
  }

  /** Answers every held request and answers new ones at once again; returns how many were held. */
  release() {
    this.#holding = false;
    const held = this.#held;
    this.#held = [];
    for (const response of held) answer(response);
    return held.length;
  }

  get heldCount() {
    return this.#held.length;
  }

  /** Resolves once `done(arrivals)` holds, or with false after `timeoutMs`. */
  waitFor(done, timeoutMs) {
    if (done(this.arrivals)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done(this.arrivals)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Checks the V3 signature of the kept requests with the account's token. */
  verifySamples(authToken) {
    let valid = 0;
    let invalid = 0;
    for (const sample of this.samples) {
      const ok =
        typeof sample.signature === 'string' &&
        typeof sample.nonce === 'string' &&
        verifyV3({ method: 'POST', url: this.url, nonce: sample.nonce, authToken, signature: sample.signature, params: sample.params });
      if (ok) valid++;
      else invalid++;
    }
    return { checked: this.samples.length, valid, invalid };
  }

  async close() {
    for (const response of this.#held) response.destroy();
    this.#held = [];
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #onRequest(request, response) {
    const at = performance.now();
    const held = this.#holding;
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const sequence = Number(params.SequenceNumber);
      if (request.method !== 'POST' || size > MAX_BODY_BYTES || !params.RecordingUUID || !Number.isInteger(sequence)) {
        this.malformed++;
        response.writeHead(400).end();
        return;
      }
      this.arrivals.push({ recordingUuid: params.RecordingUUID, sequence, event: params.EventName ?? '?', at, held });
      const key = `${params.RecordingUUID}:${sequence}`;
      if (!this.unique.has(key)) {
        this.unique.add(key);
        this.lastNewAt = at;
      }
      if (this.samples.length < this.#sampleLimit) {
        this.samples.push({
          params,
          signature: request.headers['x-plivo-signature-v3'],
          nonce: request.headers['x-plivo-signature-v3-nonce'],
        });
      }
      // A request may have come in before release() and ended after it: answer it then.
      if (this.#holding) this.#held.push(response);
      else answer(response);
      for (const check of this.#waiters) check();
    });
  }
}

function answer(response) {
  if (!response.writableEnded && !response.destroyed) response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('OK');
}
