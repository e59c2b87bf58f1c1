/**
 * LAME instances, each a WebAssembly instance with 16 MiB of linear memory, made once and reused.
 *
 * The pool keeps as many finished instances as were in use at the busiest moment. A new instance
 * costs its instantiation and, on its first restore, ~600 page faults (several milliseconds); a
 * pool with a fixed cap dropped instances whenever a burst of finishing recordings overfilled it,
 * only to make new ones when the next burst came, and at a few hundred recordings a second that
 * churn took half a core. Instances that no recording needed through a whole trim period are let
 * go, down to the spare count that {@link prewarmMp3Encoders} keeps ready.
 *
 * When none is idle, instances are made one at a time and every finished one goes first to whoever
 * waits: a thread that fell behind and meets hundreds of recordings at once serves them from the
 * instances their predecessors give back, rather than making one for each.
 */
import { createEncoder, createMp3Encoder } from 'wasm-media-encoders';
import type { Lame } from './lame-snapshot.js';

export const MP3_POOL_TRIM_MS = 30_000;

const idle: Lame[] = [];
const waiting: Array<{ resolve: (lame: Lame) => void; reject: (error: Error) => void }> = [];
let making = false;
let spare = 0;
/** The fewest instances idle since the last trim: that many were not needed all along. */
let fewestIdle = 0;
let trimTimer: ReturnType<typeof setInterval> | undefined;
let created = 0;

/** How many LAME instances this thread made, and how many are idle. */
export function mp3PoolStats(): { created: number; idle: number } {
  return { created, idle: idle.length };
}

/** An instance in whatever state its last user left it. */
export function acquireLame(): Promise<Lame> {
  const lame = idle.pop();
  fewestIdle = Math.min(fewestIdle, idle.length);
  if (lame) return Promise.resolve(lame);
  return new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    if (!making) void makeForWaiting();
  });
}

export function releaseLame(lame: Lame): void {
  const next = waiting.shift();
  if (next) return next.resolve(lame);
  idle.push(lame);
  trimTimer ??= setInterval(trimIdle, MP3_POOL_TRIM_MS).unref();
}

async function makeForWaiting(): Promise<void> {
  making = true;
  try {
    while (waiting.length > 0) releaseLame(await newLame());
  } catch (error) {
    for (const waiter of waiting.splice(0)) waiter.reject(error as Error);
  } finally {
    making = false;
  }
}

function trimIdle(): void {
  const unneeded = Math.min(fewestIdle, idle.length - spare);
  // The bottom of the stack is what went longest unused; dropped instances are garbage-collected.
  if (unneeded > 0) idle.splice(0, unneeded);
  fewestIdle = idle.length;
}

/**
 * Makes LAME instances ahead of need, up to `count` idle ones, so starting a recording does not
 * wait for one. The pool keeps that many when it trims.
 */
export function prewarmMp3Encoders(count: number): Promise<void> {
  spare = count;
  warming ??= (async () => {
    try {
      while (idle.length < spare) releaseLame(await newLame());
    } finally {
      warming = undefined;
    }
  })();
  return warming;
}

let warming: Promise<void> | undefined;

/** WebAssembly.Module; @types/node 20 does not declare the WebAssembly namespace. */
type CompiledWasm = object;
const WasmModule = (globalThis as unknown as { WebAssembly: { Module: abstract new (...args: never[]) => CompiledWasm } }).WebAssembly.Module;

/** The compiled LAME module, once the first encoder has compiled it; undefined if it could not be read off. */
let compiled: Promise<CompiledWasm | undefined> | undefined;

/** A new instance, never used. */
export async function newLame(): Promise<Lame> {
  created += 1;
  if (!compiled) {
    // The first one compiles the inlined wasm, and every encoder asked for meanwhile waits for it
    // rather than compiling its own. The package hands the compiled module only to
    // createEncoder()'s callback, so it is read off the instance, to skip decoding and compiling
    // ~1 MB of base64 for every later encoder; when that field is not there, every encoder
    // compiles its own (slower, correct).
    const first = createMp3Encoder();
    compiled = first.then(
      (encoder) => {
        const module = (encoder as unknown as { module?: { module?: unknown } }).module?.module;
        return module instanceof WasmModule ? module : undefined;
      },
      () => {
        compiled = undefined;
        return undefined;
      },
    );
    return first;
  }
  const module = await compiled;
  if (module) return createEncoder('audio/mpeg', module as Parameters<typeof createEncoder>[1]);
  return createMp3Encoder();
}
