#!/usr/bin/env node
// Load generator for the `media` bench: simulated participants' media streams, run in its own
// process (forked by streamer-client.mjs) so neither the bench nor the gateway pays for them.
//
// Each stream is a WebSocket to a participant's stream_url over 127.0.0.1, in the gateway's plain
// framing: a JSON start message, then a binary 20 ms frame of 8 kHz 16-bit LE PCM (320 bytes)
// every 20 ms, written to the socket as a prebuilt WebSocket frame, paced by the clock (frame k
// of a stream is due at its start + 20k ms; a late timer sends every frame that is due, so the
// rate never drifts). Every frame's send lag (how long after
// its due time it was handed to the socket) goes into a histogram, so the bench can tell whether
// the generator kept pace.
//
// Commands arrive over the IPC channel as { id, type, ... } and are answered { id, ok, ... }:
//   open   { streams: [{ key, url, callUuid }], concurrency } -> { opened, failed, errors, ms }
//   stats  { reset }                                          -> { live, frames, lagMs, ... }
//   pause  { keys }   (stop sending frames, keep the socket)  -> { paused }
//   close  { keys? }  (all streams when keys is absent)       -> { closed }
// The process exits when the IPC channel closes (the bench ended or died).
import WebSocket from 'ws';
import { speechLike } from '../../../../packages/media/bench/encoder.mjs';

const FRAME_MS = 20;
const RATE = 8000;
const FRAME_SAMPLES = (RATE * FRAME_MS) / 1000; // 160 samples = 320 bytes
const LOOP_SECONDS = 10;
const TIMER_MS = 1;

// Speech-like audio, so the gateway's mixer and MP3 encoder see realistic input; each stream
// starts at its own place in the loop, so the four voices of an MPC differ.
const loop = speechLike(LOOP_SECONDS);
const loopBytes = Buffer.from(loop.buffer, loop.byteOffset, loop.byteLength);
// Every frame is built once, as the whole WebSocket frame a client sends (FIN + binary opcode,
// 16-bit length, masked with an all-zero key, which leaves the payload as it is), and written
// straight to the socket: the generator then costs one write per frame and nothing else, so more
// of the machine is left to the gateway. The gateway unmasks and parses every frame as it would
// any client's.
const wsFrame = (payload) => {
  const frame = Buffer.alloc(8 + payload.length);
  frame[0] = 0x82;
  frame[1] = 0x80 | 126;
  frame.writeUInt16BE(payload.length, 2);
  payload.copy(frame, 8); // bytes 4-7, the mask key, stay 0
  return frame;
};
const FRAMES = Array.from({ length: (LOOP_SECONDS * 1000) / FRAME_MS }, (_, i) =>
  wsFrame(loopBytes.subarray(i * FRAME_SAMPLES * 2, (i + 1) * FRAME_SAMPLES * 2)),
);

/** Send lag histogram: 0.05 ms bins up to 5 s, plus an overflow bin. */
const BIN_MS = 0.05;
const BINS = Math.round(5000 / BIN_MS);
class LagHistogram {
  constructor() {
    this.bins = new Uint32Array(BINS + 1);
    this.count = 0;
    this.max = 0;
    this.sum = 0;
  }
  add(ms) {
    const v = ms < 0 ? 0 : ms;
    this.bins[Math.min(BINS, Math.floor(v / BIN_MS))]++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }
  percentile(q) {
    if (this.count === 0) return null;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i <= BINS; i++) {
      seen += this.bins[i];
      if (seen >= rank) return i === BINS ? this.max : (i + 1) * BIN_MS; // upper edge: never flatters
    }
    return this.max;
  }
  summary() {
    const r = (v) => (v === null ? null : Math.round(v * 100) / 100);
    return { count: this.count, p50: r(this.percentile(0.5)), p99: r(this.percentile(0.99)), max: r(this.max), mean: r(this.count ? this.sum / this.count : null) };
  }
}

/** key -> stream */
const streams = new Map();
let live = []; // streams currently paced, as an array for the hot loop
let lag = new LagHistogram();
let window = { frames: 0, since: performance.now(), cpu: process.cpuUsage(), maxBuffered: 0 };
const totals = { opened: 0, unexpectedCloses: 0, closeCodes: {}, errors: 0, lastError: null };
let nextOffset = 0;

function refreshLive() {
  live = [...streams.values()].filter((stream) => stream.pacing);
}

function pump() {
  const now = performance.now();
  let maxBuffered = window.maxBuffered;
  for (let i = 0; i < live.length; i++) {
    const stream = live[i];
    if (stream.next > now) continue;
    const ws = stream.ws;
    if (ws.readyState !== WebSocket.OPEN) continue;
    const socket = ws._socket; // the frames are whole WebSocket frames (see wsFrame)
    do {
      const sentAt = performance.now();
      socket.write(FRAMES[stream.frame]);
      lag.add(sentAt - stream.next);
      stream.frame = (stream.frame + 1) % FRAMES.length;
      stream.next += FRAME_MS;
      window.frames++;
    } while (stream.next <= now);
    if (ws.bufferedAmount > maxBuffered) maxBuffered = ws.bufferedAmount;
  }
  window.maxBuffered = maxBuffered;
  setTimeout(pump, TIMER_MS);
}

function openOne({ key, url, callUuid }) {
  if (!/^ws:\/\/127\.0\.0\.1:\d+\//.test(url)) return Promise.reject(new Error(`refusing a stream URL not on 127.0.0.1: ${url}`));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 15_000 });
    const stream = { key, ws, callUuid, next: 0, frame: (nextOffset = (nextOffset + 137) % FRAMES.length), pacing: false, closing: false };
    let settled = false;
    ws.once('open', () => {
      settled = true;
      ws.send(JSON.stringify({ event: 'start', call_uuid: callUuid, sample_rate: RATE }));
      stream.next = performance.now(); // the first frame right after the start, as a telephony platform sends it
      stream.pacing = true;
      streams.set(key, stream);
      live.push(stream);
      totals.opened++;
      resolve();
    });
    ws.on('error', (error) => {
      totals.errors++;
      totals.lastError = error.message;
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
    ws.on('close', (code) => {
      if (!stream.closing) {
        totals.unexpectedCloses++;
        totals.closeCodes[code] = (totals.closeCodes[code] ?? 0) + 1;
      }
      stream.pacing = false;
      if (streams.get(key) === stream) streams.delete(key);
      refreshLive();
    });
  });
}

async function open({ streams: wanted, concurrency = 16 }) {
  const started = performance.now();
  const errors = [];
  let next = 0;
  let opened = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const item = wanted[next++];
      try {
        await openOne(item);
        opened++;
      } catch (error) {
        errors.push(`${item.key}: ${error.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, wanted.length) }, worker));
  return { opened, failed: errors.length, errors: errors.slice(0, 5), ms: Math.round(performance.now() - started) };
}

function stats({ reset = false } = {}) {
  const now = performance.now();
  const cpu = process.cpuUsage(window.cpu);
  const seconds = (now - window.since) / 1000;
  const result = {
    live: live.length,
    seconds: Math.round(seconds * 100) / 100,
    frames: window.frames,
    framesPerSecond: Math.round(window.frames / seconds),
    lagMs: lag.summary(),
    maxBufferedBytes: window.maxBuffered,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 1000) / 10,
    ...totals,
    rss: process.memoryUsage().rss,
  };
  if (reset) {
    lag = new LagHistogram();
    window = { frames: 0, since: now, cpu: process.cpuUsage(), maxBuffered: 0 };
  }
  return result;
}

async function close({ keys } = {}) {
  const targets = keys ? keys.map((key) => streams.get(key)).filter(Boolean) : [...streams.values()];
  await Promise.all(
    targets.map(
      (stream) =>
        new Promise((resolve) => {
          stream.closing = true;
          stream.pacing = false;
          if (stream.ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            stream.ws.terminate();
            resolve();
          }, 5000);
          stream.ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          stream.ws.close(1000, 'bench done');
        }),
    ),
  );
  for (const stream of targets) if (streams.get(stream.key) === stream) streams.delete(stream.key);
  refreshLive();
  return { closed: targets.length };
}

/** Stops sending frames on these streams, leaving them open (a participant gone quiet). */
async function pause({ keys }) {
  for (const key of keys) {
    const stream = streams.get(key);
    if (stream) stream.pacing = false;
  }
  refreshLive();
  return { paused: keys.length };
}

const handlers = { open, stats, close, pause };

process.on('message', async (message) => {
  const { id, type } = message ?? {};
  try {
    const handler = handlers[type];
    if (!handler) throw new Error(`unknown command ${type}`);
    process.send({ id, ok: true, ...(await handler(message)) });
  } catch (error) {
    process.send({ id, ok: false, error: error?.stack ?? String(error) });
  }
});
process.on('disconnect', () => {
  for (const stream of streams.values()) stream.ws.terminate();
  process.exit(0);
});

pump();
process.send({ ready: true, pid: process.pid });
