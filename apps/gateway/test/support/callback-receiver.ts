import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { plivo } from './plivo-sdk.js';

export interface ReceivedCallback {
  method: string;
  url: string;
  params: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** Whether the official SDK's validateV3Signature accepts it. */
  valid: boolean;
  at: number;
}

/**
 * A local HTTP receiver for recording callbacks that checks every one with the official
 * `plivo.validateV3Signature`. `respond` decides each answer (default 200).
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  private server: Server | undefined;
  respond: (callback: ReceivedCallback, response: ServerResponse) => void = (_callback, response) => response.end('ok');

  constructor(private readonly authToken: string) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = `http://${request.headers.host}${request.url}`;
        const body = Buffer.concat(chunks).toString('utf8');
        const query = Object.fromEntries(new URL(url).searchParams);
        const params = request.method === 'POST' ? Object.fromEntries(new URLSearchParams(body)) : query;
        const valid = plivo.validateV3Signature(
          request.method!,
          url,
          String(request.headers['x-plivo-signature-v3-nonce']),
          this.authToken,
          String(request.headers['x-plivo-signature-v3']),
          request.method === 'POST' ? params : {},
        );
        const callback = { method: request.method!, url, params, headers: request.headers, valid, at: performance.now() };
        this.received.push(callback);
        this.respond(callback, response);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }

  /** Waits until `count` callbacks (optionally of one recording) have arrived. */
  async waitFor(count: number, recordingId?: string, timeoutMs = 15000): Promise<ReceivedCallback[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.received.filter((callback) => !recordingId || callback.params.RecordingUUID === recordingId);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) throw new Error(`only ${matching.length} of ${count} callbacks arrived`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
