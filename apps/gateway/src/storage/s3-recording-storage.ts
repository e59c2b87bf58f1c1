import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Logger } from '../common/logger.js';
import { reasonOf } from '../common/reason-of.js';
import { retryTimes } from '../common/retry.js';
import { checkedKey, FsRecordingStorage, type FinishedWrite, type FsRecordingWriter, type PartialFile, type RecordingStorage, type RecordingWriter, type StoredFile } from './recording-storage.js';

/** How many times each request of a recording's upload is tried, over about 8 s. */
const UPLOAD_ATTEMPTS = 6;
/** No request of an upload is tried again after this long: a bucket that hangs uses it up in one attempt. */
const UPLOAD_RETRY_WINDOW_MS = 8000;

/** Parts held for upload at most (one in flight, one waiting), so a bucket slow to take them costs no more memory. */
const MAX_PARTS_QUEUED = 2;

/** S3's smallest part (all but the last part of an upload must be at least this big). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface S3StorageOptions {
  bucket: string;
  /** An S3-compatible server's URL; AWS's own endpoint for the region when unset. */
  endpoint?: string;
  region: string;
  /** A folder for every key (`recordings` or `recordings/`); none when empty. */
  prefix: string;
  forcePathStyle: boolean;
  /** The size of every part of a multipart upload but the last: at least `MIN_PART_SIZE` on AWS. */
  partSizeBytes: number;
  /** A local directory where each file is also written while it is recorded, until it is stored. */
  spoolDir: string;
}

interface Target {
  Bucket: string;
  Key: string;
}

/**
 * How long an attempt at a request to S3 may take to connect, and then stay silent, before it
 * fails, and how many attempts the SDK makes: it waits for good by default, so a server that takes
 * connections and never answers held every upload, download, delete, stop and start-up that reached
 * it; and its 3 attempts of 20 s made a download answer after 69 s. The SDK's handler starts a
 * silence timeout of 6 s or more only 3 s into the attempt, so an attempt that hangs lasts 10 s. A
 * request that succeeds after `slowMs`, its attempts included, is logged.
 */
export const S3_TIMEOUTS = { connectMs: 5000, silentMs: 7000, attempts: 2, slowMs: 5000 };

/**
 * Credentials come from the SDK's standard chain: `AWS_ACCESS_KEY_ID` and the rest, shared files,
 * instance roles. With a logger, a request that succeeds only after `timeouts.slowMs` is logged: its
 * failures are their callers' to tell, but a bucket that hangs and then answers would say nothing.
 */
export function createS3Client(
  options: Pick<S3StorageOptions, 'endpoint' | 'region' | 'forcePathStyle'>,
  timeouts: typeof S3_TIMEOUTS = S3_TIMEOUTS,
  logger?: Logger,
): S3Client {
  const client = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.silentMs },
    maxAttempts: timeouts.attempts,
    // S3-compatible servers often understand neither the newer default checksums nor aws-chunked bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  if (logger) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const started = performance.now();
        const result = await next(args);
        const ms = Math.round(performance.now() - started);
        if (ms > timeouts.slowMs) {
          const { Key: key } = args.input as { Key?: string };
          logger.warn({ command: context.commandName, key, ms, attempts: (result.output as { $metadata?: { attempts?: number } }).$metadata?.attempts }, 'S3 request answered slowly');
        }
        return result;
      },
      { step: 'initialize', name: 'logSlowRequests' },
    );
  }
  return client;
}

const contentTypes: Record<string, string> = { mp3: 'audio/mpeg', wav: 'audio/wav' };

const isMissing = (error: unknown) => error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404;

/** Some S3-compatible servers (s3rver) cannot abort multipart uploads. */
const isUnsupported = (error: unknown) => error instanceof S3ServiceException && ['NotImplemented', 'MethodNotAllowed'].includes(error.name);

/**
 * Objects in a bucket. A recording file is written as a multipart upload while it is recorded, and
 * also to a local spool file. An object cannot be patched: `finish` reads the first part back from
 * the spool, writes the header over it and uploads it last. After a crash, what the spool holds of
 * an unfinished file is salvaged as from a directory, then uploaded.
 */
export class S3RecordingStorage implements RecordingStorage {
  readonly remote = true;
  /** Aborted by abandonRequests: every request to the bucket carries its signal. */
  private readonly abandoned = new AbortController();
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly spool: FsRecordingStorage;

  constructor(
    options: S3StorageOptions,
    readonly client: S3Client = createS3Client(options),
    private readonly logger?: Logger,
  ) {
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.partSize = options.partSizeBytes;
    this.spool = new FsRecordingStorage(options.spoolDir);
  }

  async create(key: string): Promise<RecordingWriter> {
    const target = this.target(key);
    const fallBack = (reason: string) => {
      // Stopping: the restart stores what the spool holds.
      if (!this.abandoned.signal.aborted) this.logger?.warn({ key: target.Key, reason }, 'the upload of a recording file falls back to its spool file, from which it is stored later');
    };
    return new MultipartWriter(this.upload(target, UPLOAD_ATTEMPTS), this.partSize, await this.spool.create(key), () => this.uploadSpooled(key), fallBack);
  }

  /**
   * Cuts every request to the bucket short, now and from now on: a stopping process does not wait
   * for a bucket that hangs, and what it has not stored stays in the spool for the restart.
   */
  abandonRequests(): void {
    this.abandoned.abort();
  }

  /**
   * A refusal that trying again does not change (access denied, no such bucket, bad credentials,
   * parts too small): only the bucket's settings or the gateway's can.
   */
  isLastingRefusal(error: unknown): boolean {
    const status = error instanceof S3ServiceException ? (error.$metadata.httpStatusCode ?? 0) : 0;
    return status >= 400 && status < 500 && status !== 408 && status !== 429;
  }

  /**
   * What the spool holds of an unfinished file. Publishing it finishes it in the spool; its `store`
   * uploads it whole and aborts the upload a crash cut off, so nothing here waits for the bucket.
   */
  async partial(key: string): Promise<PartialFile | undefined> {
    const store = async () => {
      await this.uploadSpooled(key);
      await this.abortUnfinished(this.target(key));
    };
    const spooled = await this.spool.partial(key);
    if (spooled) {
      return {
        ...spooled,
        publish: async (header, size) => {
          await spooled.publish(header, size);
          return { store };
        },
      };
    }
    // Finished in the spool by an earlier run, and not uploaded yet: the header is written.
    const finished = await this.spool.get(key);
    if (!finished) return undefined;
    const head = Buffer.concat(await finished.read({ start: 0, end: Math.min(finished.size, 512) - 1 }).toArray());
    return { size: finished.size, head, publish: async () => ({ store }), discard: () => this.spool.delete(key) };
  }

  /** Uploads a finished spool file, then removes it. */
  private async uploadSpooled(key: string): Promise<void> {
    const file = await this.spool.get(key);
    if (!file) throw new Error(`the spool has no file ${key}`);
    // Tried once: whoever stores it tries again later, rather than be held up by a bucket out of reach.
    const upload = this.upload(this.target(key), 1);
    const read = async (start: number, end: number) => Buffer.concat(await file.read({ start, end }).toArray());
    if (file.size <= this.partSize) {
      await upload.put(await read(0, file.size - 1));
    } else {
      try {
        for (let start = 0, part = 1; start < file.size; start += this.partSize, part++) {
          await upload.part(part, await read(start, Math.min(file.size, start + this.partSize) - 1));
        }
        await upload.complete();
      } catch (error) {
        // Each try makes an upload of its own: a failed one is not left behind.
        await upload.abort().catch(() => undefined);
        throw error;
      }
    }
    await this.spool.delete(key);
  }

  async get(key: string): Promise<StoredFile | undefined> {
    const target = this.target(key);
    let size: number;
    try {
      size = (await this.client.send(new HeadObjectCommand(target), this.requestOptions())).ContentLength ?? 0;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    return { size, read: (range) => this.read(target, range) };
  }

  async delete(key: string): Promise<void> {
    const target = this.target(key);
    await this.client.send(new DeleteObjectCommand(target), this.requestOptions());
    await this.abortUnfinished(target);
    await this.spool.delete(key);
  }

  private read(target: Target, range?: { start: number; end: number }): Readable {
    const body = new PassThrough();
    const request = new AbortController();
    // Not AbortSignal.any: on Node 20 each signal it makes stays in the long-lived one's dependants for good.
    const abandon = () => request.abort();
    if (this.abandoned.signal.aborted) abandon();
    else this.abandoned.signal.addEventListener('abort', abandon, { once: true });
    body.once('close', () => {
      this.abandoned.signal.removeEventListener('abort', abandon);
      if (!body.readableEnded) request.abort();
    });
    this.client
      .send(new GetObjectCommand({ ...target, Range: range && `bytes=${range.start}-${range.end}` }), { abortSignal: request.signal })
      .then((response) => pipeline(response.Body as Readable, atMost(range ? range.end - range.start + 1 : Infinity), body))
      .catch((error: Error) => body.destroy(error));
    return body;
  }

  /**
   * Best effort, never failing a delete or a restart: what it may miss are parts, never a file, and
   * servers without upload listing (s3rver) or a policy without `s3:ListBucketMultipartUploads` leave
   * them to the bucket's lifecycle rule.
   */
  private async abortUnfinished(target: Target): Promise<void> {
    try {
      const { Uploads = [] } = await this.client.send(new ListMultipartUploadsCommand({ Bucket: target.Bucket, Prefix: target.Key }), this.requestOptions());
      for (const upload of Uploads.filter((upload) => upload.Key === target.Key)) {
        await this.upload(target, 1, upload.UploadId).abort();
      }
    } catch {
      // Left to the lifecycle rule.
    }
  }

  private upload(target: Target, attempts: number, uploadId?: string): ObjectUpload {
    return new ObjectUpload(this.client, target, attempts, this.abandoned.signal, uploadId);
  }

  private requestOptions() {
    return { abortSignal: this.abandoned.signal };
  }

  private target(key: string): Target {
    checkedKey(key);
    return { Bucket: this.bucket, Key: this.prefix ? `${this.prefix}/${key}` : key };
  }
}

/** The first `length` bytes of a stream: s3rver answers `bytes=0-0` with the whole object. */
function atMost(length: number) {
  return async function* (source: AsyncIterable<Buffer>) {
    let left = length;
    for await (const chunk of source) {
      if (chunk.length > left) {
        yield chunk.subarray(0, left);
        return;
      }
      left -= chunk.length;
      yield chunk;
    }
  };
}

/** One object's upload: whole in one request, or in parts (in any order) completed at the end. */
class ObjectUpload {
  private readonly parts: CompletedPart[] = [];
  private readonly contentType: string | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly target: Target,
    /** How many times each request is sent before its failure is the upload's. */
    private readonly attempts: number,
    /** Cuts its requests short, and its retries (see abandonRequests). */
    private readonly signal: AbortSignal,
    private uploadId?: string,
  ) {
    this.contentType = contentTypes[target.Key.split('.').pop()!];
  }

  async put(body: Buffer): Promise<void> {
    await this.retried(() => this.client.send(new PutObjectCommand({ ...this.target, Body: body, ContentType: this.contentType }), { abortSignal: this.signal }));
  }

  async part(partNumber: number, body: Buffer): Promise<void> {
    this.uploadId ??= (await this.retried(() => this.client.send(new CreateMultipartUploadCommand({ ...this.target, ContentType: this.contentType }), { abortSignal: this.signal }))).UploadId;
    const { ETag } = await this.retried(() => this.client.send(new UploadPartCommand({ ...this.target, UploadId: this.uploadId, PartNumber: partNumber, Body: body }), { abortSignal: this.signal }));
    this.parts.push({ PartNumber: partNumber, ETag });
  }

  async complete(): Promise<void> {
    const parts = [...this.parts].sort((a, b) => a.PartNumber! - b.PartNumber!);
    await this.retried(() => this.client.send(new CompleteMultipartUploadCommand({ ...this.target, UploadId: this.uploadId, MultipartUpload: { Parts: parts } }), { abortSignal: this.signal }));
  }

  /** Drops the parts uploaded so far. */
  async abort(): Promise<void> {
    if (!this.uploadId) return;
    try {
      await this.client.send(new AbortMultipartUploadCommand({ ...this.target, UploadId: this.uploadId }), { abortSignal: this.signal });
    } catch (error) {
      // Parts a server cannot abort are left to its own clean-up (a bucket lifecycle rule on AWS).
      if (!isUnsupported(error) && !isMissing(error)) throw error;
    }
  }

  private retried<T>(request: () => Promise<T>): Promise<T> {
    const started = performance.now();
    return retryTimes(request, this.attempts, () => this.signal.aborted || performance.now() - started > UPLOAD_RETRY_WINDOW_MS);
  }
}

/**
 * Appends go to the spool file. Beyond the first part they are also buffered, and each later part
 * is uploaded, in order, as soon as it is full, so memory stays at about two parts whatever the
 * length. The first part is read back from the spool at `finish`.
 *
 * A bucket out of reach costs no audio: once a part cannot be uploaded, the rest of the recording
 * goes to the spool only, and `finish` leaves the file whole there, for `store` to upload when the
 * bucket takes it, however long that is.
 */
class MultipartWriter implements RecordingWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private bytes = 0;
  private nextPart = 2;
  private uploading = Promise.resolve();
  private partsQueued = 0;
  /** Parts stop being uploaded as the recording runs once one could not be. */
  private partsFailed = false;
  private aborted = false;

  constructor(
    /** Tried UPLOAD_ATTEMPTS times a request: the SDK's own retries last under a second, and a bucket out of reach for a few seconds should not cost the upload under way. */
    private readonly upload: ObjectUpload,
    private readonly partSize: number,
    private readonly spool: FsRecordingWriter,
    /** Uploads the spool's finished file (and removes it). */
    private readonly uploadSpooled: () => Promise<void>,
    /** Told, once, why the upload under way was given up for the spool. */
    private readonly fallBack: (reason: string) => void,
  ) {}

  /** Only the spool's: what the bucket does not take now is uploaded from the spool later. */
  get failure(): Error | undefined {
    return this.spool.failure;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.failure || this.aborted) return;
    this.spool.append(chunk);
    const firstPartLeft = Math.max(0, this.partSize - this.bytes);
    this.bytes += chunk.length;
    if (chunk.length <= firstPartLeft || this.partsFailed) return;
    const beyond = chunk.subarray(firstPartLeft);
    this.pending.push(beyond);
    this.pendingBytes += beyond.length;
    while (this.pendingBytes >= this.partSize) this.queue(this.take(this.partSize));
  }

  persist(): Promise<void> {
    return this.spool.persist();
  }

  async finish(header?: Uint8Array): Promise<FinishedWrite> {
    await this.uploading;
    // First in the spool, where a process that dies before the upload is done leaves the file's true length.
    await this.spool.writeHeader(header);
    const stored =
      !this.partsFailed &&
      (await this.uploadInHand(header).then(
        () => true,
        (error: unknown) => {
          this.fallBack(reasonOf(error));
          return false;
        },
      ));
    // Where the bucket does not take it now, the spool holds it all.
    if (stored) {
      // Stored: the spool file has done its part.
      await this.spool.abort();
      return { bytes: this.bytes };
    }
    this.pending = [];
    this.pendingBytes = 0;
    await this.spool.finish(header);
    return {
      bytes: this.bytes,
      store: async () => {
        await this.uploadSpooled();
        // The upload begun while recording: the bucket answers again, so it can be dropped now.
        await this.upload.abort().catch(() => undefined);
      },
    };
  }

  async abort(): Promise<void> {
    await this.stopWriting();
    await this.spool.abort();
    await this.upload.abort();
  }

  /** The spool keeps what was written; the parts uploaded go, as a file is only ever stored whole. */
  async close(): Promise<void> {
    await this.stopWriting();
    await this.spool.close();
    await this.upload.abort().catch(() => undefined);
  }

  private async stopWriting(): Promise<void> {
    this.aborted = true;
    await this.uploading;
    this.pending = [];
  }

  /** The parts uploaded while recording, completed by what is still in hand and the first part. */
  private async uploadInHand(header?: Uint8Array): Promise<void> {
    if (this.bytes <= this.partSize) {
      await this.upload.put(overwrite(await this.spool.readBack(this.bytes), header));
      return;
    }
    const rest = this.take(this.pendingBytes);
    if (rest.length > 0) await this.upload.part(this.nextPart++, rest);
    await this.upload.part(1, overwrite(await this.spool.readBack(this.partSize), header));
    await this.upload.complete();
  }

  /**
   * Uploads a part after the ones queued before it. The first failure stops the rest, and so does a
   * bucket too slow to take them (a part waiting behind one still in flight): the spool has them.
   */
  private queue(body: Buffer): void {
    if (this.partsQueued >= MAX_PARTS_QUEUED) return this.stopParts('the bucket takes parts more slowly than they are recorded');
    const partNumber = this.nextPart++;
    this.partsQueued += 1;
    this.uploading = this.uploading
      .then(() => (this.partsFailed || this.aborted ? undefined : this.upload.part(partNumber, body)))
      .catch((error: unknown) => this.stopParts(reasonOf(error)))
      .finally(() => void (this.partsQueued -= 1));
  }

  private stopParts(reason: string): void {
    if (!this.partsFailed && !this.aborted) this.fallBack(reason);
    this.partsFailed = true;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The first `size` buffered bytes as one buffer. */
  private take(size: number): Buffer {
    const all = Buffer.concat(this.pending, this.pendingBytes);
    // A copy, so the part sent away is not kept alive by what remains.
    const rest = Buffer.from(all.subarray(size));
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return all.subarray(0, size);
  }
}

/** `header` written over the start of `body` (a body shorter than the header becomes the header). */
function overwrite(body: Buffer, header?: Uint8Array): Buffer {
  if (!header || header.length === 0) return body;
  if (header.length >= body.length) return Buffer.from(header);
  body.set(header, 0);
  return body;
}
