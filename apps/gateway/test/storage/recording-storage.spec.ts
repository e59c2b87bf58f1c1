import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FsRecordingStorage, WRITE_BATCH_MAX_AGE_MS, type RecordingStorage, type RecordingWriter } from '../../dist/storage/recording-storage.js';
import { MIN_PART_SIZE, S3_TIMEOUTS, S3RecordingStorage, createS3Client } from '../../dist/storage/s3-recording-storage.js';
import { HangingRelay } from '../support/hanging-relay.js';
import { startTestS3, type TestS3 } from '../support/s3.js';

/** The smallest part S3 allows, so these tests hold against AWS too. */
const PART = MIN_PART_SIZE;

let keys = 0;
const newKey = (format = 'wav') => `MATESTSTORAGE/${process.pid}-${(keys += 1)}.${format}`;

/** Appends `bytes` in chunks of `chunk` bytes, as the encoder hands them over. */
function writeAll(writer: RecordingWriter, bytes: Buffer, chunk: number): void {
  for (let offset = 0; offset < bytes.length; offset += chunk) writer.append(bytes.subarray(offset, offset + chunk));
}

/** `body` as it must be stored: `header` over its first bytes. */
const patched = (body: Buffer, header: Buffer) => Buffer.concat([header, body.subarray(header.length)]);

async function expectStored(storage: RecordingStorage, key: string, expected: Buffer, ranges: [number, number][]) {
  const file = await storage.get(key);
  expect(file?.size).toBe(expected.length);
  expect((await buffer(file!.read())).equals(expected), 'whole file').toBe(true);
  for (const [start, end] of ranges) {
    expect((await buffer(file!.read({ start, end }))).equals(expected.subarray(start, end + 1)), `bytes ${start}-${end}`).toBe(true);
  }
}

interface OpenStorage {
  storage: RecordingStorage;
  close(): Promise<void>;
}

/** What every adapter must do, run against each of them. */
function behavesAsRecordingStorage(name: string, open: () => Promise<OpenStorage>) {
  describe(`${name} recording storage`, () => {
    let opened: OpenStorage;
    let storage: RecordingStorage;
    beforeAll(async () => {
      opened = await open();
      storage = opened.storage;
    });
    afterAll(() => opened?.close());

    it('publishes what was appended at finish, with the header written over its start', async () => {
      const key = newKey();
      const body = randomBytes(100_000);
      const header = Buffer.from('RIFF....WAVEfmt header known last');
      const writer = await storage.create(key);
      writeAll(writer, body, 997);
      expect(await storage.get(key)).toBeUndefined();
      expect(await writer.finish(header)).toEqual({ bytes: body.length });
      expect(writer.failure).toBeUndefined();
      await expectStored(storage, key, patched(body, header), [[0, 0], [0, 99], [10, 12_345], [50_000, 99_999], [99_999, 99_999]]);
    });

    it('publishes a short file, still all in hand at finish, with its header over its start', async () => {
      for (const [size, header] of [
        [5000, Buffer.from('RIFF....WAVEfmt header known last')],
        [10, Buffer.from('a header longer than what was appended')],
      ] as const) {
        const key = newKey();
        const body = randomBytes(size);
        const writer = await storage.create(key);
        writeAll(writer, body, 997);
        expect(await writer.finish(header)).toEqual({ bytes: body.length });
        const expected = patched(body, header);
        await expectStored(storage, key, expected, [[0, expected.length - 1]]);
      }
    });

    it('publishes a file without a header as appended', async () => {
      const key = newKey('mp3');
      const body = randomBytes(5000);
      const writer = await storage.create(key);
      writeAll(writer, body, 1);
      await writer.finish();
      await expectStored(storage, key, body, [[4000, 4999]]);
    });

    it('keeps a file of more than two parts whole, across the part boundaries', async () => {
      const key = newKey();
      const body = randomBytes(2 * PART + 123_457);
      const header = Buffer.alloc(44, 0xab);
      const writer = await storage.create(key);
      writeAll(writer, body, 65_539);
      expect(await writer.finish(header)).toEqual({ bytes: body.length });
      await expectStored(storage, key, patched(body, header), [[0, 43], [PART - 10, PART + 9], [2 * PART - 1, 2 * PART], [2 * PART, body.length - 1]]);
    });

    it('leaves nothing when a file is aborted, small or of several parts', async () => {
      for (const size of [1000, 2 * PART + 10]) {
        const key = newKey();
        const writer = await storage.create(key);
        writeAll(writer, randomBytes(size), 65_536);
        await writer.abort();
        expect(await storage.get(key)).toBeUndefined();
        expect(await storage.partial(key)).toBeUndefined();
      }
    });

    it('deletes a file, and deleting what is not there is no error', async () => {
      const key = newKey();
      const writer = await storage.create(key);
      writer.append(randomBytes(2000));
      await writer.finish();
      expect(await storage.get(key)).toBeDefined();
      await storage.delete(key);
      expect(await storage.get(key)).toBeUndefined();
      await storage.delete(key);
    });

    it('has nothing under a key never written', async () => {
      expect(await storage.get(newKey())).toBeUndefined();
      expect(await storage.partial(newKey())).toBeUndefined();
    });

    it('refuses keys that climb out of their place', async () => {
      await expect(storage.create('../escape.wav')).rejects.toThrow(/bad storage key/);
    });
  });
}

behavesAsRecordingStorage('fs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mpc-storage-'));
  return { storage: new FsRecordingStorage(root), close: async () => rmSync(root, { recursive: true, force: true }) };
});

describe('fs recording storage writes', () => {
  it('writes out what it holds once that is a second old, though nothing more is appended (a paused recording)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mpc-storage-'));
    try {
      const storage = new FsRecordingStorage(root);
      const writer = await storage.create('MAPAUSED/1.wav');
      const written = () => statSync(join(root, 'MAPAUSED', '1.wav.part')).size;
      writer.append(Buffer.from('audio before the pause'));
      expect(written()).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, WRITE_BATCH_MAX_AGE_MS + 200));
      expect(written()).toBe('audio before the pause'.length);
      writer.append(Buffer.from(', and after'));
      await writer.finish();
      expect(readFileSync(join(root, 'MAPAUSED', '1.wav'), 'utf8')).toBe('audio before the pause, and after');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('fs recording storage directories', () => {
  it("makes an account's directory with its first file, and again when it was removed", async () => {
    const root = mkdtempSync(join(tmpdir(), 'mpc-storage-'));
    try {
      const storage = new FsRecordingStorage(root);
      for (const round of [1, 2]) {
        const writer = await storage.create(`MAFRESH/${round}.mp3`);
        writer.append(Buffer.from('audio'));
        await writer.finish();
        expect(readFileSync(join(root, 'MAFRESH', `${round}.mp3`), 'utf8')).toBe('audio');
        rmSync(join(root, 'MAFRESH'), { recursive: true });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

let s3: TestS3;
let spoolDir: string;
const s3Options = () => ({ bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', prefix: `${s3.prefix}/storage`, forcePathStyle: true, partSizeBytes: PART, spoolDir });
/** The files in the spool directory, which holds each file only until it is stored. */
const spoolFiles = () => readdirSync(spoolDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);

describe('s3', () => {
  beforeAll(async () => {
    s3 = await startTestS3();
    spoolDir = mkdtempSync(join(tmpdir(), 'mpc-spool-'));
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  behavesAsRecordingStorage('s3', async () => {
    const storage = new S3RecordingStorage(s3Options());
    return { storage, close: async () => storage.client.destroy() };
  });

  /** An S3 storage whose client notes every command it sends, and may fail some. */
  function watchedStorage(fail?: (command: string) => Error | undefined) {
    const client: S3Client = createS3Client(s3Options());
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const error = fail?.(context.commandName!);
        if (error) throw error;
        sent.push(context.commandName!);
        return next(args);
      },
      { step: 'initialize', name: 'watchCommands' },
    );
    return { storage: new S3RecordingStorage(s3Options(), client), sent, client };
  }

  it('uploads parts while recording, holding back only the first, which finish writes last', async () => {
    const { storage, sent, client } = watchedStorage();
    const key = newKey();
    const body = randomBytes(2 * PART + 1000);
    const writer = await storage.create(key);
    writeAll(writer, body, 8192);
    await vi.waitFor(() => expect(sent).toEqual(['CreateMultipartUploadCommand', 'UploadPartCommand']));
    expect(await storage.get(key)).toBeUndefined();
    sent.length = 0;
    const header = Buffer.alloc(44, 1);
    await writer.finish(header);
    expect(sent).toEqual(['UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand']);
    await expectStored(storage, key, patched(body, header), [[PART - 1, PART]]);
    expect(spoolFiles()).toEqual([]);
    client.destroy();
  });

  it('puts a file of one part or less in one request at finish', async () => {
    const { storage, sent, client } = watchedStorage();
    for (const size of [1000, PART]) {
      sent.length = 0;
      const key = newKey('mp3');
      const writer = await storage.create(key);
      writeAll(writer, randomBytes(size), 4096);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sent).toEqual([]);
      await writer.finish(Buffer.from('ID3'));
      expect(sent).toEqual(['PutObjectCommand']);
      expect((await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${s3.prefix}/storage/${key}` }))).ContentType).toBe('audio/mpeg');
    }
    client.destroy();
  });

  it('tries a request the bucket refuses for a moment again, at finish too, and stores the file whole', async () => {
    const refusals = new Map([['UploadPartCommand', 2], ['CompleteMultipartUploadCommand', 1]]);
    const { storage, client } = watchedStorage((command) => {
      const left = refusals.get(command) ?? 0;
      if (left === 0) return undefined;
      refusals.set(command, left - 1);
      return new Error(`${command} refused for a moment`);
    });
    const key = newKey();
    const body = randomBytes(2 * PART + 10);
    const writer = await storage.create(key);
    writeAll(writer, body, 65_536);
    const header = Buffer.alloc(44, 3);
    await writer.finish(header);
    await expectStored(storage, key, patched(body, header), [[PART - 1, PART]]);
    expect([...refusals.values()]).toEqual([0, 0]);
    client.destroy();
  });

  /** A storage whose bucket can be taken out of reach (every command refused) and brought back. */
  function storageWithOutage() {
    let down = false;
    const watched = watchedStorage((command) => (down ? new Error(`${command}: bucket out of reach`) : undefined));
    return { ...watched, setDown: (value: boolean) => void (down = value) };
  }

  it('records on into the spool while the bucket refuses parts, and finish keeps the whole file there until store uploads it', { timeout: 30_000 }, async () => {
    const { storage, sent, client, setDown } = storageWithOutage();
    const key = newKey();
    const body = randomBytes(4 * PART + 10);
    const writer = await storage.create(key);
    writeAll(writer, body.subarray(0, 2 * PART + 10), 65_536);
    await vi.waitFor(() => expect(sent).toContain('UploadPartCommand'));
    setDown(true);
    writeAll(writer, body.subarray(2 * PART + 10), 65_536);
    const header = Buffer.alloc(44, 5);
    const finished = await writer.finish(header);
    expect(writer.failure).toBeUndefined();
    expect(finished.bytes).toBe(body.length);
    expect(spoolFiles()).toEqual([basename(key)]);
    await expect(finished.store!()).rejects.toThrow(/out of reach/);
    expect(spoolFiles()).toEqual([basename(key)]);

    setDown(false);
    sent.length = 0;
    await finished.store!();
    // The upload begun while recording is dropped.
    expect(sent.at(-1)).toBe('AbortMultipartUploadCommand');
    await expectStored(storage, key, patched(body, header), [[PART - 1, PART], [3 * PART - 1, 3 * PART]]);
    expect(spoolFiles()).toEqual([]);
    client.destroy();
  });

  it('keeps a short file whose one upload at finish is refused whole in the spool, until store uploads it', { timeout: 30_000 }, async () => {
    const { storage, client, setDown } = storageWithOutage();
    const key = newKey();
    const body = randomBytes(1000);
    const writer = await storage.create(key);
    writeAll(writer, body, 100);
    setDown(true);
    const header = Buffer.alloc(44, 6);
    const finishing = writer.finish(header);
    // While the upload is tried, the spool file has its header already: a process dying now leaves its true length.
    await vi.waitFor(() => expect(readFileSync(join(spoolDir, `${key}.part`)).equals(patched(body, header))).toBe(true));
    const finished = await finishing;
    expect(finished).toMatchObject({ bytes: 1000, store: expect.any(Function) });
    expect(readFileSync(join(spoolDir, key)).equals(patched(body, header))).toBe(true);
    setDown(false);
    await finished.store!();
    await expectStored(storage, key, patched(body, header), []);
    expect(spoolFiles()).toEqual([]);
    client.destroy();
  });

  it('has a file stored at finish when the bucket answers, with nothing left to store', async () => {
    const { storage, client } = storageWithOutage();
    const writer = await storage.create(newKey());
    writer.append(randomBytes(100));
    expect(await writer.finish(Buffer.alloc(44))).toEqual({ bytes: 100 });
    client.destroy();
  });

  it('salvages a file cut off before finish from its spool, uploads it whole and aborts the cut-off upload', async () => {
    const { storage, sent, client } = watchedStorage();
    const key = newKey();
    const body = randomBytes(2 * PART + 10);
    const writer = await storage.create(key);
    writeAll(writer, body, 65_536);
    await vi.waitFor(() => expect(sent).toContain('UploadPartCommand'));
    await writer.persist(); // as the process does when it is told to die, or its write batch's age does
    // A new start: the process that wrote it is gone.
    const restarted = new S3RecordingStorage(s3Options());
    const partial = await restarted.partial(key);
    expect(partial?.size).toBe(body.length);
    expect(Buffer.from(partial!.head).equals(body.subarray(0, partial!.head.length))).toBe(true);
    const header = Buffer.alloc(44, 7);
    const { store } = await partial!.publish(header, body.length - 10);
    // Published in the spool: only its store reaches the bucket.
    expect(await restarted.get(key)).toBeUndefined();
    await store!();
    await expectStored(restarted, key, patched(body.subarray(0, body.length - 10), header), [[PART - 1, PART]]);
    expect(spoolFiles()).toEqual([]);
    restarted.client.destroy();
    client.destroy();
  });

  it('uploads a file salvaged into the spool by a start that died before uploading it', async () => {
    const key = newKey('mp3');
    const salvaged = randomBytes(1000);
    mkdirSync(join(spoolDir, dirname(key)), { recursive: true });
    writeFileSync(join(spoolDir, key), salvaged);
    const storage = new S3RecordingStorage(s3Options());
    const partial = await storage.partial(key);
    expect(partial?.size).toBe(1000);
    const { store } = await partial!.publish(Buffer.alloc(0), 1000);
    await store!();
    await expectStored(storage, key, salvaged, []);
    expect(spoolFiles()).toEqual([]);
    storage.client.destroy();
  });

  it('gives up on a bucket that takes connections and never answers, once it has been silent a while', { timeout: 10_000 }, async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const options = { ...s3Options(), endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` };
    const storage = new S3RecordingStorage(options, createS3Client(options, { connectMs: 500, silentMs: 300, attempts: 2, slowMs: 5000 }));
    try {
      await expect(storage.get('MA1/silent.wav')).rejects.toThrow(/timeout|timed out/i);
    } finally {
      storage.client.destroy();
      silent.close();
    }
  });

  /** Hands `use` an S3 storage that reaches the bucket through a relay that can hang, with a client of `timeouts`; closes both after. */
  async function throughRelay(timeouts: Parameters<typeof createS3Client>[1], logger: pino.Logger | undefined, use: (storage: S3RecordingStorage, relay: HangingRelay, sent: string[]) => Promise<void>) {
    const relay = new HangingRelay({ host: '127.0.0.1', port: Number(new URL(s3.endpoint).port) });
    const options = { ...s3Options(), endpoint: await relay.listen() };
    const client = createS3Client(options, timeouts, logger);
    const sent: string[] = [];
    client.middlewareStack.add((next, context) => (args) => (sent.push(context.commandName!), next(args)), { step: 'initialize', name: 'countSends' });
    try {
      await use(new S3RecordingStorage(options, client), relay, sent);
    } finally {
      client.destroy();
      await relay.close();
    }
  }

  it('logs a request the bucket answers only after a while, with its attempts', { timeout: 10_000 }, async () => {
    const logged: { msg: string; command: string; key: string; attempts: number; ms: number }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    await throughRelay({ connectMs: 500, silentMs: 300, attempts: 2, slowMs: 200 }, logger, async (storage, relay) => {
      const writer = await storage.create('MA1/slow.wav');
      writer.append(Buffer.from('audio'));
      relay.hangNext = 1;
      await writer.finish();
      expect(logged).toEqual([expect.objectContaining({ msg: 'S3 request answered slowly', command: 'PutObjectCommand', key: `${s3.prefix}/storage/MA1/slow.wav`, attempts: 2 })]);
      expect(logged[0]!.ms).toBeGreaterThan(300);
    });
  });

  it('cuts its requests short once abandoned, a finish under way keeping the file whole in the spool', { timeout: 10_000 }, async () => {
    await throughRelay(S3_TIMEOUTS, undefined, async (storage, relay) => {
      const key = newKey();
      const writer = await storage.create(key);
      writer.append(randomBytes(1000));
      relay.hanging = true;
      const finishing = writer.finish(Buffer.alloc(44, 8));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const abandonedAt = performance.now();
      storage.abandonRequests();
      const finished = await finishing;
      expect(performance.now() - abandonedAt).toBeLessThan(1000);
      expect(spoolFiles()).toContain(basename(key));
      await expect(finished.store!()).rejects.toThrow(/aborted/);
      await expect(storage.get(key)).rejects.toThrow(/aborted/);
      rmSync(join(spoolDir, key));
    });
  });

  it('tries a request a hanging bucket held for its whole retry window no more, and keeps the file in the spool', { timeout: 20_000 }, async () => {
    await throughRelay({ connectMs: 500, silentMs: 4500, attempts: 2, slowMs: 60_000 }, undefined, async (storage, relay, sent) => {
      const key = newKey();
      const writer = await storage.create(key);
      writer.append(randomBytes(1000));
      relay.hanging = true;
      const finished = await writer.finish(Buffer.alloc(44, 9));
      // One send, its two attempts of 4.5 s past the 8 s window; not six sends of 9 s.
      expect(sent).toEqual(['PutObjectCommand']);
      expect(finished.store).toBeDefined();
      expect(spoolFiles()).toContain(basename(key));
      rmSync(join(spoolDir, key));
    });
  });

  it('leaves nothing of a download on the storage\'s own abort signal, read whole or left half-way', async () => {
    const storage = new S3RecordingStorage(s3Options());
    const key = newKey();
    const writer = await storage.create(key);
    writer.append(randomBytes(64 * 1024));
    await writer.finish();
    const file = (await storage.get(key))!;
    for (let download = 0; download < 5; download += 1) {
      const body = file.read(download % 2 === 0 ? undefined : { start: 0, end: 9 });
      if (download < 4) await buffer(body);
      else await new Promise((resolve) => body.once('data', () => resolve(body.destroy())));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const signal = (storage as unknown as { abandoned: AbortController }).abandoned.signal;
    expect(getEventListeners(signal, 'abort')).toEqual([]);
    // Signals made by AbortSignal.any: Node 20 keeps them for good in the source signal's dependants.
    const dependants = Object.getOwnPropertySymbols(signal).find((symbol) => symbol.description === 'kDependantSignals');
    expect((dependants && (signal as unknown as Record<symbol, Set<unknown> | undefined>)[dependants]?.size) ?? 0).toBe(0);
    storage.client.destroy();
  });

  it('has nothing to salvage where nothing was spooled', async () => {
    const storage = new S3RecordingStorage(s3Options());
    expect(await storage.partial(newKey())).toBeUndefined();
    storage.client.destroy();
  });

  it('keeps files under the prefix', async () => {
    const storage = new S3RecordingStorage({ ...s3Options(), prefix: `/${s3.prefix}/prefixed/` });
    const writer = await storage.create('MA1/one.wav');
    writer.append(Buffer.from('audio'));
    await writer.finish();
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${s3.prefix}/prefixed/MA1/one.wav` }));
    expect(head.ContentLength).toBe(5);
    expect(head.ContentType).toBe('audio/wav');
    storage.client.destroy();
  });
});
