import { createHash } from 'node:crypto';
import { closeSync, openSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A second gateway on a data directory or database another one runs on. */
export class InUseByAnotherGateway extends Error {}

/** Longer socket paths are cut short by the kernel without a word (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH_BYTES = 100;
/** How long an answer from the gateway that holds the directory is waited for. */
const ASK_TIMEOUT_MS = 2000;
/** A takeover takes milliseconds: one marked this long ago was left by a process that died in it. */
const STALE_TAKEOVER_MS = 10_000;
const TAKEOVER_POLL_MS = 50;

export interface DataDirHold {
  /** Whether a hold a process that is gone left behind was taken over: the last run did not stop, it died. */
  readonly tookOver: boolean;
  /** What a gateway that finds the directory held is told of this one: its process, and its URL once it has one. */
  describe(holder: string): void;
  release(): Promise<void>;
}

/**
 * Holds DATA_DIR for this process, so that a second gateway on it refuses to start rather than
 * recover, as if they had crashed, the recordings the first one is writing. The hold is a Unix
 * socket listening in the directory: the kernel lets go of it when the process ends, however it
 * ends, and a socket left behind by a process that is gone answers nothing and is taken over.
 */
export async function holdDataDir(dataDir: string): Promise<DataDirHold> {
  let holder = `pid ${process.pid}`;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(`${holder}\n`);
  });
  server.unref();
  const [inside, outside] = socketPaths(dataDir);
  let held = inside === undefined ? undefined : await hold(server, inside, dataDir);
  // A file system that takes no sockets (some network ones) leaves the one in the temporary directory.
  if (held === undefined || 'error' in held) held = await hold(server, outside, dataDir);
  if ('error' in held) throw new Error(`could not hold DATA_DIR ${dataDir} for this gateway (${held.error.code ?? held.error.message})`, { cause: held.error });
  return {
    tookOver: held.tookOver,
    describe: (text) => (holder = text),
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Where the socket goes: in the directory itself, unless that path is too long for a socket; and
 * in the temporary directory, named after the data directory's real path.
 */
function socketPaths(dataDir: string): [string | undefined, string] {
  // By the real path: two spellings of one directory must come to one socket.
  const real = realpathSync(dataDir);
  const inside = join(real, 'gateway.lock');
  const digest = createHash('sha256').update(real).digest('hex').slice(0, 24);
  return [Buffer.byteLength(inside) <= MAX_SOCKET_PATH_BYTES ? inside : undefined, join(tmpdir(), `mpc-gateway-${digest}.lock`)];
}

/** Listens at `path`, taking over a socket a gateway that is gone left there; throws when one that runs has it. */
async function hold(server: Server, path: string, dataDir: string): Promise<{ tookOver: boolean } | { error: NodeJS.ErrnoException }> {
  const error = await listen(server, path);
  if (!error) return { tookOver: false };
  if (error.code !== 'EADDRINUSE') return { error };
  await refuseIfHeld(path, dataDir);
  // Left behind by a gateway that is gone. Two starting at once could each find it so and take it
  // over, the second removing the first one's socket: one at a time, each looking again.
  const done = await exclusively(`${path}.takeover`);
  try {
    const again = await listen(server, path);
    if (again?.code !== 'EADDRINUSE') return again ? { error: again } : { tookOver: true };
    await refuseIfHeld(path, dataDir);
    rmSync(path, { force: true });
    const taken = await listen(server, path);
    return taken ? { error: taken } : { tookOver: true };
  } finally {
    done();
  }
}

async function refuseIfHeld(path: string, dataDir: string): Promise<void> {
  const other = await ask(path);
  if (other === undefined) return;
  throw new InUseByAnotherGateway(
    `DATA_DIR ${dataDir} is in use by another gateway (${other}). One gateway runs on a data directory and its database: stop that one first, or give this one a DATA_DIR of its own.`,
  );
}

/** Waits until this process alone has `file` (made exclusively, or left by a taker that died a while ago); answers how to let go. */
async function exclusively(file: string): Promise<() => void> {
  for (;;) {
    try {
      closeSync(openSync(file, 'wx'));
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const age = Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > STALE_TAKEOVER_MS) rmSync(file, { force: true });
    else await sleep(TAKEOVER_POLL_MS);
  }
}

function listen(server: Server, path: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const failed = (error: NodeJS.ErrnoException) => resolve(error);
    server.once('error', failed);
    server.listen(path, () => {
      server.off('error', failed);
      resolve(undefined);
    });
  });
}

/** What the gateway listening at `path` says of itself; nothing when none listens there. */
function ask(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    let answer = '';
    const done = (result: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    // One that accepts but does not answer is alive all the same.
    const timer = setTimeout(() => done('it did not say which'), ASK_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => done(answer.trim() || 'it did not say which'));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? undefined : `it could not be asked: ${error.code}`));
  });
}
