import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyV3 } from '@mpc/client';

export interface ReceivedCallback {
  method: string;
  /** EventName, e.g. MPCRecordingCompleted; `?` when the request carried none. */
  event: string;
  params: Record<string, string>;
  /** null when the request carried no X-Plivo-Signature-V3. */
  signatureValid: boolean | null;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * A throwaway receiver for recording callbacks on 127.0.0.1 and a free port: it answers 200 to
 * everything, keeps what arrived and checks Plivo's V3 signature with the account's token.
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  private readonly server: Server;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly authToken: string) {
    this.server = createServer((request, response) => {
      void this.read(request)
        .then((callback) => {
          this.received.push(callback);
          for (const wake of this.waiters) wake();
          response.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
        })
        .catch(() => response.writeHead(400).end());
    });
  }

  static async start(authToken: string): Promise<CallbackReceiver> {
    const receiver = new CallbackReceiver(authToken);
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(0, '127.0.0.1', () => resolve());
    });
    return receiver;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/recording-callback`;
  }

  /** Waits until `done` holds of what arrived, or `timeoutMs` passes. */
  async waitFor(done: (received: readonly ReceivedCallback[]) => boolean, timeoutMs: number): Promise<void> {
    if (done(this.received)) return;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done(this.received)) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async read(request: IncomingMessage): Promise<ReceivedCallback> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new Error('callback body too large');
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', this.url);
    const params: Record<string, string> = {};
    if (request.method === 'GET' || request.method === 'HEAD') {
      for (const [key, value] of url.searchParams) params[key] = value;
    } else if ((request.headers['content-type'] ?? '').includes('json')) {
      for (const [key, value] of Object.entries(JSON.parse(body || '{}') as Record<string, unknown>)) params[key] = String(value);
    } else {
      for (const [key, value] of new URLSearchParams(body)) params[key] = value;
    }

    const signature = request.headers['x-plivo-signature-v3'];
    const nonce = request.headers['x-plivo-signature-v3-nonce'];
    let signatureValid: boolean | null = null;
    if (typeof signature === 'string' && typeof nonce === 'string') {
      const method = request.method === 'GET' ? 'GET' : 'POST';
      signatureValid = verifyV3({ method, url: url.href, nonce, authToken: this.authToken, signature, params: method === 'POST' ? params : {} });
    }
    return { method: request.method ?? '?', event: params.EventName ?? '?', params, signatureValid };
  }
}
