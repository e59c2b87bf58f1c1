import { EventEmitter } from 'node:events';
import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ApiError, ERROR_CATALOG, loggedFailure } from '../common/error-catalog.js';
import { reasonOf } from '../common/reason-of.js';
import { DatabaseConnectionError } from '../persistence/database-unreachable.js';
import { Channel, type IpcEndpoint } from './channel.js';

/** Two ends of a channel in one process; messages cross as structured clones, as with `serialization: 'advanced'`. */
function pair(): [IpcEndpoint & EventEmitter, IpcEndpoint & EventEmitter] {
  const a = new EventEmitter() as IpcEndpoint & EventEmitter;
  const b = new EventEmitter() as IpcEndpoint & EventEmitter;
  const link = (from: typeof a, to: typeof b) => {
    from.send = (message, handle, _options, callback) => {
      setImmediate(() => {
        to.emit('message', structuredClone(message), handle);
        callback(null);
      });
      return true;
    };
  };
  link(a, b);
  link(b, a);
  return [a, b];
}

interface Remote {
  add(a: number, b: number): number;
  later(at: Date): Promise<Date>;
  refuse(): never;
  crash(): never;
  unreachable(): never;
  note(text: string): void;
}

describe('Channel', () => {
  const errors: string[] = [];
  const notes: string[] = [];
  const make = () => {
    const [near, far] = pair();
    new Channel<object>(far, {
      add: (a: number, b: number) => a + b,
      later: async (at: Date) => new Date(at.getTime() + 1000),
      refuse: () => {
        throw new ApiError('not_found', 'no such call');
      },
      crash: () => {
        throw new TypeError('boom');
      },
      unreachable: () => {
        const refused = new DatabaseConnectionError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
        throw new DrizzleQueryError('select "id" from "accounts" where "auth_id" = $1', ['MA1'], refused);
      },
      note: (text: string) => {
        if (text === 'bad') throw new Error('bad note');
        notes.push(text);
      },
    }, (error, method) => errors.push(`${method}: ${(error as Error).message}`));
    return { channel: new Channel<Remote>(near, {}, () => undefined), near };
  };

  it('answers calls with their values, dates included', async () => {
    const { channel } = make();
    expect(await channel.call('add', 2, 3)).toBe(5);
    const at = await channel.call('later', new Date(0));
    expect(at).toBeInstanceOf(Date);
    expect(at.getTime()).toBe(1000);
  });

  it('keeps an ApiError code across, and turns other errors into plain ones', async () => {
    const { channel } = make();
    const refused = await channel.call('refuse').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe('not_found');
    expect((refused as ApiError).message).toBe('no such call');
    const crashed = await channel.call('crash').catch((error: unknown) => error);
    expect(crashed).not.toBeInstanceOf(ApiError);
    expect((crashed as Error).message).toBe('boom');
  });

  it('carries a database out of reach as such, with the words of its driver as the cause rather than its statement', async () => {
    const { channel } = make();
    const unreachable = await channel.call('unreachable').catch((error: unknown) => error);
    expect((unreachable as ApiError).code).toBe('database_unavailable');
    expect((unreachable as ApiError).message).toBe(ERROR_CATALOG.database_unavailable.message);
    expect(reasonOf(unreachable)).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    expect(loggedFailure(unreachable)).toEqual({ reason: 'connect ECONNREFUSED 127.0.0.1:5432' });
    expect(loggedFailure(new TypeError('boom'))).toEqual({ err: new TypeError('boom') });
  });

  it('reports a failed notification instead of throwing, and delivers the rest in order', async () => {
    const { channel } = make();
    channel.notify('note', 'one');
    channel.notify('note', 'bad');
    channel.notify('note', 'two');
    await channel.call('add', 0, 0);
    expect(notes).toEqual(['one', 'two']);
    expect(errors).toContain('note: bad note');
  });

  it('sends what one turn posts as one message, in order, and a socket after what was posted before it', async () => {
    const [near, far] = pair();
    const sent: unknown[] = [];
    const send = near.send!.bind(near);
    near.send = (message, handle, options, callback) => {
      sent.push(handle ? 'with a socket' : message);
      return send(message, handle, options, callback);
    };
    const received: string[] = [];
    new Channel<object>(far, { note: (text: string) => void received.push(text), take: (_socket: unknown, text: string) => void received.push(`socket ${text}`) }, () => undefined);
    const channel = new Channel<Remote & { take(socket: unknown, text: string): void }>(near, {}, () => undefined);
    channel.notify('note', 'one');
    channel.notify('note', 'two');
    const sum = channel.call('add', 1, 2);
    channel.notifyWithSocket('take', { destroy: () => undefined } as never, 'three');
    channel.notify('note', 'four');
    await sum.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatchObject({ kind: 'batch', messages: [{ method: 'note' }, { method: 'note' }, { method: 'add' }] });
    expect(sent[1]).toBe('with a socket');
    expect(sent[2]).toMatchObject({ kind: 'notify', method: 'note', args: ['four'] });
    expect(received).toEqual(['one', 'two', 'socket three', 'four']);
  });

  it('fails calls still waiting when the other side goes, and refuses new ones', async () => {
    const [near] = pair();
    const channel = new Channel<Remote>(near, {}, () => undefined);
    near.send = () => true; // the other side never answers
    const waiting = channel.call('add', 1, 1);
    near.emit('disconnect');
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(channel.call('add', 1, 1)).rejects.toThrow(/closed/);
  });
});
