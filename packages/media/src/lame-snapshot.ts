/**
 * Configured LAME states, kept and copied instead of configured again.
 *
 * Configuring LAME (`lame_init_params`) costs about 1.2 ms: it recomputes its quantisation and
 * psychoacoustic tables with some 20,000 calls of `pow`, for every recording. The state it ends in
 * depends only on the settings, and all of it is in the WebAssembly instance's linear memory: the
 * module's only other mutable state, its stack pointer, is back where it started between calls.
 * So the memory of one freshly configured instance, up to its heap's break, is kept per setting and
 * copied over a finished instance from the pool: the same encoder, for a copy of ~2.3 MB. What lies
 * between the static data and the heap is the 5 MiB stack, dead between calls: it is left out.
 *
 * Every snapshot proves itself once before it is used: a test signal encoded by the restored instance
 * must come out byte for byte as from the freshly configured one. When it does not, or the layout is
 * not the one expected, that setting is configured the ordinary way.
 */
import type { WasmMediaEncoder } from 'wasm-media-encoders';
import type { TelephonyRate } from './resample.js';
import { generateTone } from './tone.js';

export type Lame = WasmMediaEncoder<'audio/mpeg'>;
export type LameSettings = Parameters<Lame['configure']>[0];

/** The parts of the package's encoder object a restore sets; they are private in its types. */
interface LameInternals {
  module: { memory: { buffer: ArrayBuffer } };
  ref: number;
  channelCount: number;
}

export interface LameSnapshot {
  /** The configured memory, from address 0 to the heap's break, where `skipped` holds zeros. */
  memory: Uint8Array;
  /** Bytes not copied back, [start, end): the stack's unused depths. */
  skipped: [number, number];
  /** The configured encoder's handle (a pointer into that memory). */
  ref: number;
  channels: number;
}

const internals = (lame: Lame) => lame as unknown as LameInternals;
const memoryOf = (lame: Lame) => new Uint8Array(internals(lame).module.memory.buffer);

/** Puts `lame` in the state the snapshot was taken in; false when its memory cannot hold it. */
export function restoreLame(lame: Lame, snapshot: LameSnapshot): boolean {
  const memory = memoryOf(lame);
  const [start, end] = snapshot.skipped;
  if (memory.length < snapshot.memory.length) return false;
  memory.set(snapshot.memory.subarray(0, start));
  memory.set(snapshot.memory.subarray(end), end);
  Object.assign(internals(lame), { ref: snapshot.ref, channelCount: snapshot.channels });
  return true;
}

/**
 * Where the configured heap ends: sbrk's break, a word that held an address in the untouched
 * instance and now holds one past everything configuring wrote. Allocations can end in bytes still
 * zero, so the last byte that changed is not enough. Where several words fit, the furthest is taken
 * (copying more costs only time); undefined when none does.
 */
export function heapBreak(untouched: Uint8Array, configured: Uint8Array): number | undefined {
  let end = configured.length;
  while (end > 0 && configured[end - 1] === untouched[end - 1]) end--;
  const before = new Int32Array(untouched.buffer, untouched.byteOffset, Math.floor(end / 4));
  const after = new Int32Array(configured.buffer, configured.byteOffset, before.length);
  const found: number[] = [];
  for (let i = 0; i < before.length; i++) {
    const value = after[i]!;
    if (value !== before[i] && before[i]! > 0 && value >= end && value <= configured.length) found.push(value);
  }
  return found.length ? Math.max(...found) : undefined;
}

/** Margin kept on either side of the skipped stretch: the live top of the stack, and static data that happens to be zero. */
const SKIP_MARGIN = 64 * 1024;

/**
 * The stack's unused depths: the longest stretch below the heap (below `heapStart`) that is zero
 * both before and after configuring, less a margin on either side; [0, 0) when there is none that long.
 */
export function unwritten(untouched: Uint8Array, configured: Uint8Array, heapStart: number): [number, number] {
  let best: [number, number] = [0, 0];
  let runStart = 0;
  for (let i = 0; i <= heapStart; i++) {
    if (i < heapStart && configured[i] === 0 && untouched[i] === 0) continue;
    if (i - runStart > best[1] - best[0]) best = [runStart, i];
    runStart = i + 1;
  }
  const [start, end] = [best[0] + SKIP_MARGIN, best[1] - SKIP_MARGIN];
  return start < end ? [start, end] : [0, 0];
}

/**
 * Configures `fresh` (an instance never used before) with `settings` and keeps its state, once the
 * restore has proven to give the same encoder: `fresh` is then left in that state. Otherwise answers
 * undefined, and `fresh` must not be used again. `untouched`, another instance never used, shows
 * what configuring changed (it is only read: copying 16 MiB would cost more than the rest).
 */
export function snapshotLame(fresh: Lame, untouched: Lame, settings: LameSettings): LameSnapshot | undefined {
  fresh.configure(settings);
  const configured = memoryOf(fresh);
  const end = heapBreak(memoryOf(untouched), configured);
  if (end === undefined) return undefined;
  const memory = configured.slice(0, end);
  // The encoder's handle is the first allocation: the heap starts there.
  const { ref } = internals(fresh);
  const snapshot = { memory, skipped: unwritten(memoryOf(untouched), memory, Math.min(ref, end)), ref, channels: settings.channels };
  const expected = encodeProbe(fresh, settings);
  if (!restoreLame(fresh, snapshot)) return undefined;
  const restored = encodeProbe(fresh, settings);
  const same = restored.length === expected.length && restored.every((byte, i) => byte === expected[i]);
  restoreLame(fresh, snapshot);
  return same ? snapshot : undefined;
}

/** Half a second of a tone per channel, in 20 ms calls, flushed: the MP3 bytes. */
function encodeProbe(lame: Lame, { sampleRate, channels }: LameSettings): Uint8Array {
  const rate = sampleRate as TelephonyRate;
  const pcm = Array.from({ length: channels }, (_, c) =>
    Float32Array.from(generateTone({ frequency: 440 + 110 * c, sampleRate: rate, durationMs: 500, amplitude: 0.5 }), (sample) => sample / 32768),
  );
  const chunk = sampleRate / 50;
  const out: number[] = [];
  for (let start = 0; start < pcm[0]!.length; start += chunk) out.push(...lame.encode(pcm.map((channel) => channel.subarray(start, start + chunk))));
  out.push(...lame.finalize());
  return Uint8Array.from(out);
}
