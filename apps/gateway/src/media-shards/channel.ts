import type { Socket } from 'node:net';
import { ApiError, knownApiError, type ErrorCode } from '../common/error-catalog.js';
import { reasonOf } from '../common/reason-of.js';

/** The side of a Node IPC channel this needs: a forked child process, or `process` inside one. */
export interface IpcEndpoint {
  send?(message: unknown, handle: Socket | undefined, options: object, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown, handle?: Socket) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

type Fn = (...args: any[]) => unknown;
type Handlers = object;
type Args<T, K extends keyof T> = T[K] extends Fn ? Parameters<T[K]> : never;
type Result<T, K extends keyof T> = T[K] extends Fn ? Awaited<ReturnType<T[K]>> : never;
type Tail<T extends unknown[]> = T extends [unknown, ...infer Rest] ? Rest : never;

/** What a call answers across the channel: its value, or an error that keeps its catalog code. */
type Reply = { kind: 'reply'; id: number; value?: unknown; error?: { message: string; code?: ErrorCode; cause?: string } };
type Message =
  | { kind: 'call'; id: number; method: string; args: unknown[] }
  | { kind: 'notify'; method: string; args: unknown[] }
  | Reply;
/** The messages of one turn of the event loop, in the order they were posted. */
type Batch = { kind: 'batch'; messages: Message[] };

/** A message to a process that has gone is dropped: its end of the story is told by its exit. */
const ignoreClosed = () => undefined;

/**
 * Calls and notifications between the gateway and a media shard over Node's IPC channel (with
 * `serialization: 'advanced'`, so dates and typed arrays cross as they are). Messages arrive in
 * the order they were sent. A notification may carry a socket, which moves to the other process.
 *
 * What one turn of the event loop posts crosses as one message: under load the API commits many
 * recording changes in one turn, and each message was a write to the pipe, which costs 35 µs and
 * more on a busy machine, besides the other side's read.
 */
export class Channel<Remote extends object> {
  private nextId = 1;
  private outbox: Message[] = [];
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private closed: Error | undefined;

  constructor(
    private readonly endpoint: IpcEndpoint,
    local: Handlers,
    /** A notification's handler failed: there is nobody to answer, so it is only reported. */
    onError: (error: unknown, method: string) => void,
  ) {
    const receive = (message: Message, handle?: Socket) =>
      this.received(message, local, handle).catch((error: unknown) => onError(error, (message as { method?: string }).method ?? '?'));
    endpoint.on('message', (message, handle) => {
      const arrived = message as Message | Batch;
      if (arrived.kind !== 'batch') return void receive(arrived, handle);
      for (const each of arrived.messages) void receive(each);
    });
    endpoint.on('disconnect', () => this.close(new Error('the media shard channel closed')));
  }

  call<K extends keyof Remote & string>(method: K, ...args: Args<Remote, K>): Promise<Result<Remote, K>> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ kind: 'call', id, method, args });
    });
  }

  notify<K extends keyof Remote & string>(method: K, ...args: Args<Remote, K>): void {
    this.post({ kind: 'notify', method, args });
  }

  /** Hands a socket over with a notification (its handler takes it first); the socket is closed on this side once sent. */
  notifyWithSocket<K extends keyof Remote & string>(method: K, socket: Socket, ...args: Tail<Args<Remote, K>>): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    // Node counts a sent socket against its server through the child, and a server whose every such
    // child has exited never finishes closing; so the socket leaves its server's count here instead.
    // Destroyed only once sent: Node queues a socket while another one crosses, and takes its handle later.
    (socket as { server?: unknown }).server = null;
    this.flush(); // what was posted before goes first
    this.endpoint.send?.({ kind: 'notify', method, args } satisfies Message, socket, {}, () => socket.destroy());
  }

  /** Fails every call still waiting, as when the other side has gone. */
  close(error: Error): void {
    this.closed ??= error;
    for (const { reject } of this.waiting.values()) reject(this.closed);
    this.waiting.clear();
  }

  private post(message: Message): void {
    if (this.closed) return;
    if (this.outbox.length === 0) setImmediate(this.flush);
    this.outbox.push(message);
  }

  private readonly flush = (): void => {
    const messages = this.outbox;
    if (messages.length === 0) return;
    this.outbox = [];
    if (this.closed) return;
    this.endpoint.send?.(messages.length === 1 ? messages[0] : ({ kind: 'batch', messages } satisfies Batch), undefined, {}, ignoreClosed);
  };

  private async received(message: Message, local: Handlers, handle: Socket | undefined): Promise<void> {
    if (message.kind === 'reply') {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (!waiter) return;
      if (!message.error) waiter.resolve(message.value);
      else waiter.reject(errorOf(message.error));
      return;
    }
    const handler = (local as Record<string, Fn | undefined>)[message.method];
    const args = handle ? [handle, ...message.args] : message.args;
    if (message.kind === 'notify') {
      await handler?.(...args);
      return;
    }
    try {
      if (!handler) throw new Error(`no method ${message.method} across the channel`);
      this.post({ kind: 'reply', id: message.id, value: await handler(...args) });
    } catch (error) {
      const known = knownApiError(error);
      const text = known?.message ?? (error as Error).message ?? String(error);
      // What failed beneath, in its own words (the database's driver), for the caller's log.
      const cause = reasonOf(error);
      this.post({ kind: 'reply', id: message.id, error: { message: text, code: known?.code, cause: cause === text ? undefined : cause } });
    }
  }
}

/** The error a reply carries, as the caller's side throws it: an ApiError keeps its code and its cause's words. */
function errorOf({ message, code, cause }: NonNullable<Reply['error']>): Error {
  const options = cause === undefined ? undefined : { cause: new Error(cause) };
  return code ? new ApiError(code, message, options) : new Error(message, options);
}
