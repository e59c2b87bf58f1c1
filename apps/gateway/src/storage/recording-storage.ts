import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/** Where a recording's file is kept: `<auth_id>/<recording_id>.<format>`. */
export const storageKey = (recording: { authId: string; recordingId: string; fileFormat: string }) =>
  `${recording.authId}/${recording.recordingId}.${recording.fileFormat}`;

/** Keys are relative paths without empty, `.` or `..` segments, whatever the adapter. */
export function checkedKey(key: string): string {
  if (key.split('/').some((part) => part === '' || part === '.' || part === '..')) throw new Error(`bad storage key ${key}`);
  return key;
}

/** A recording file being written: appended as it is encoded, patched and published at the end. */
export interface RecordingWriter {
  /** Queues the chunk; writes happen in order in the background. A failure surfaces at `finish`. */
  append(chunk: Uint8Array): void;
  /** The first write error, if one happened. */
  readonly failure: Error | undefined;
  /** Writes out what is queued, where storage keeps a partial file (the process is about to die). */
  persist(): Promise<void>;
  /**
   * Writes `header` over the start of the file (a WAV header once sizes are known) and publishes it,
   * or, where storage cannot take it now (a bucket out of reach), keeps it whole and finished where
   * it was written: then `store` is set, to be tried again until it resolves.
   */
  finish(header?: Uint8Array): Promise<FinishedWrite>;
  /** Drops what was written. */
  abort(): Promise<void>;
  /** Stops writing and leaves what was written as an unfinished file, for `partial` to find. */
  close(): Promise<void>;
}

export interface FinishedWrite {
  bytes: number;
  /** Stores the file kept where it was written; set only while storage has not taken it yet. */
  store?: () => Promise<void>;
}

export interface StoredFile {
  size: number;
  /** The bytes of the file, or of `start..end` inclusive. */
  read(range?: { start: number; end: number }): Readable;
}

/** A file whose writing stopped before it was finished (the process died), to be salvaged. */
export interface PartialFile {
  size: number;
  /** The first bytes, where the format's header is. */
  head: Uint8Array;
  /**
   * Keeps the first `size` bytes, writes `header` over the start and publishes the file; `store` is
   * set as for a writer's finish when storage cannot take it now.
   */
  publish(header: Uint8Array, size: number): Promise<Omit<FinishedWrite, 'bytes'>>;
  discard(): Promise<void>;
}

/** Where recording files live. The embedded default is a directory; S3 is the other adapter. */
export interface RecordingStorage {
  /** Whether its files are kept on a server, whose answers may be slow in coming or not come at all. */
  readonly remote: boolean;
  create(key: string): Promise<RecordingWriter>;
  /** What was written of an unfinished file, if anything. */
  partial(key: string): Promise<PartialFile | undefined>;
  /** The published file, or undefined while it is being written or when there is none. */
  get(key: string): Promise<StoredFile | undefined>;
  delete(key: string): Promise<void>;
  /** Where storage is remote: cuts its requests short, now and from now on (the process is stopping). */
  abandonRequests?(): void;
  /** Whether one of its failures is a refusal that trying again does not change, only its settings can. */
  isLastingRefusal?(error: unknown): boolean;
}

/** `storage` with some of its operations replaced; the others are passed on to it. */
export function storageWith(storage: RecordingStorage, replaced: Partial<RecordingStorage>): RecordingStorage {
  return {
    remote: storage.remote,
    create: (key) => storage.create(key),
    partial: (key) => storage.partial(key),
    get: (key) => storage.get(key),
    delete: (key) => storage.delete(key),
    abandonRequests: () => storage.abandonRequests?.(),
    isLastingRefusal: (error) => storage.isLastingRefusal?.(error) ?? false,
    ...replaced,
  };
}

/** The most a recording file holds back before writing. */
export const WRITE_BATCH_BYTES = 64 * 1024;
/** The longest a recording file holds audio back: what a crash can lose of it. */
export const WRITE_BATCH_MAX_AGE_MS = 1000;

/**
 * Appended chunks held until there are enough to be worth one write: a live recording appends a
 * few hundred bytes ten times a second, and a write per append costs more than the audio. The
 * file's writer also writes a batch out once its first chunk is `WRITE_BATCH_MAX_AGE_MS` old.
 */
export class WriteBatch {
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly maxBytes = WRITE_BATCH_BYTES) {}

  /** Holds the chunk; answers whether the batch is now big enough to be written. */
  add(chunk: Uint8Array): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    return this.size >= this.maxBytes;
  }

  /** The held chunks as one, emptying the batch. */
  take(): Uint8Array | undefined {
    if (this.chunks.length === 0) return undefined;
    const chunk = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    return chunk;
  }
}

/**
 * Writes all of `data` at `position`. A write may take fewer bytes than it was given with no error,
 * as one does when the disk fills up; the rest goes in further writes, the next of which then
 * fails with the error, rather than leave a hole of zeros in a file taken as whole.
 */
export async function writeFully(handle: Pick<FileHandle, 'write'>, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error(`no byte of ${data.length - done} could be written`), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

/**
 * A file written as `<path>.part`, in order, in batches, and renamed to `<path>` when finished.
 * What a crash leaves of it is the `.part` file, for its salvage.
 */
export class FsRecordingWriter implements RecordingWriter {
  private bytes = 0;
  private error: Error | undefined;
  private writing = Promise.resolve();
  private readonly pending = new WriteBatch();
  /**
   * Started by a batch's first chunk: what a crash can lose is bounded by its age, even when
   * appends stop, as they do while a recording is paused.
   */
  private ageTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<FsRecordingWriter> {
    const partial = `${path}.part`;
    // The account's directory is made by its first recording only: each file operation is a round
    // trip to libuv's thread pool, which costs a media shard more than the operation itself.
    // Opened for reading too: a spool file's start is read back (see readBack).
    const handle = await open(partial, 'w+').catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      await mkdir(dirname(path), { recursive: true });
      return open(partial, 'w+');
    });
    return new FsRecordingWriter(path, handle);
  }

  get failure(): Error | undefined {
    return this.error;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.error) return;
    if (this.pending.add(chunk)) this.flush();
    else this.ageTimer ??= setTimeout(() => this.flush(), WRITE_BATCH_MAX_AGE_MS).unref();
  }

  async persist(): Promise<void> {
    this.flush();
    await this.writing;
  }

  /** Writes out what is queued, then `header` over the start of the file, which stays unfinished. */
  async writeHeader(header?: Uint8Array): Promise<void> {
    await this.persist();
    if (this.error) throw this.error;
    if (header && header.length > 0) await writeFully(this.handle, header, 0);
  }

  /** The first `length` bytes appended, read back from the file. */
  async readBack(length: number): Promise<Buffer> {
    await this.persist();
    if (this.error) throw this.error;
    const bytes = Buffer.alloc(Math.min(length, this.bytes));
    const { bytesRead } = await this.handle.read(bytes, 0, bytes.length, 0);
    if (bytesRead !== bytes.length) throw new Error(`read ${bytesRead} of ${bytes.length} bytes back from ${this.path}.part`);
    return bytes;
  }

  async finish(header?: Uint8Array): Promise<FinishedWrite> {
    clearTimeout(this.ageTimer);
    const inHand = this.bytes === 0 && header?.length ? this.pending.take() : undefined;
    if (inHand && header) {
      // Nothing written yet, as for a short recording: the file goes out in one write, its header
      // already over its start, rather than a write and then the header's.
      this.bytes = inHand.length;
      const file = Buffer.concat([header, inHand.subarray(header.length)]);
      await writeFully(this.handle, file, 0);
    } else {
      await this.writeHeader(header);
    }
    await this.handle.sync();
    await this.handle.close();
    await rename(`${this.path}.part`, this.path);
    return { bytes: this.bytes };
  }

  async abort(): Promise<void> {
    await this.close();
    await rm(`${this.path}.part`, { force: true });
  }

  async close(): Promise<void> {
    clearTimeout(this.ageTimer);
    await this.writing;
    await this.handle.close().catch(() => undefined);
  }

  private flush(): void {
    clearTimeout(this.ageTimer);
    this.ageTimer = undefined;
    const chunk = this.pending.take();
    if (!chunk) return;
    const position = this.bytes;
    this.bytes += chunk.length;
    this.writing = this.writing
      .then(() => writeFully(this.handle, chunk, position))
      .catch((error: Error) => void (this.error ??= error));
  }
}

/** Files under a directory; a file is written as `<key>.part` and renamed when finished. */
export class FsRecordingStorage implements RecordingStorage {
  readonly remote = false;

  constructor(private readonly root: string) {}

  async create(key: string): Promise<FsRecordingWriter> {
    return FsRecordingWriter.open(this.pathOf(key));
  }

  async partial(key: string): Promise<PartialFile | undefined> {
    const partial = `${this.pathOf(key)}.part`;
    let handle: FileHandle;
    try {
      handle = await open(partial, 'r+');
    } catch {
      return undefined;
    }
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(size, 512));
    await handle.read(head, 0, head.length, 0);
    return {
      size,
      head,
      publish: async (header, keep) => {
        await handle.truncate(keep);
        await writeFully(handle, header, 0);
        await handle.sync();
        await handle.close();
        await rename(partial, this.pathOf(key));
        return {};
      },
      discard: async () => {
        await handle.close();
        await rm(partial, { force: true });
      },
    };
  }

  async get(key: string): Promise<StoredFile | undefined> {
    const path = this.pathOf(key);
    try {
      const { size } = await stat(path);
      return { size, read: (range) => createReadStream(path, range) };
    } catch {
      return undefined;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    await rm(`${path}.part`, { force: true });
  }

  private pathOf(key: string): string {
    return join(this.root, checkedKey(key));
  }
}
