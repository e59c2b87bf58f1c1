import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DownloadOptions {
  recordingUrl: string;
  /** Sent along, for a gateway with RECORDING_MEDIA_AUTH=true. */
  authorization: string;
  directory: string;
  fileName: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Downloaded {
  path: string;
  bytes: number;
  /** How long the file took to appear after the recording stopped. */
  waitedMs: number;
}

const POLL_MS = 200;

/**
 * The file is written once the recording has stopped; until then recording_url answers 404.
 * Polls it until it answers 200, then saves the body.
 */
export async function downloadRecording({ recordingUrl, authorization, directory, fileName, timeoutMs, signal }: DownloadOptions): Promise<Downloaded> {
  const began = performance.now();
  for (;;) {
    const response = await fetch(recordingUrl, { headers: { authorization }, signal });
    if (response.status === 200 && response.body) {
      await mkdir(directory, { recursive: true });
      const path = join(directory, fileName);
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(path), { signal });
      return { path, bytes: (await stat(path)).size, waitedMs: performance.now() - began };
    }
    const text = await response.text();
    if (response.status !== 404) throw new Error(`GET ${recordingUrl} answered ${response.status}: ${errorText(text)}`);
    if (performance.now() - began > timeoutMs) {
      throw new Error(`the recording file did not appear within ${timeoutMs / 1000} s: GET ${recordingUrl} still answers 404 (${errorText(text)})`);
    }
    await sleep(POLL_MS, undefined, { signal });
  }
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON
  }
  return body.slice(0, 200) || '(empty body)';
}
