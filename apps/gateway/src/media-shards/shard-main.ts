/**
 * A media shard: a child process of the gateway that owns the live media of the MPCs placed on it.
 * The gateway hands it each stream's socket before the WebSocket handshake; the shard reads the
 * frames, mixes, encodes and writes the files, and asks the gateway (over the IPC channel) for
 * everything that needs the database: accounts, joining a participant, hangups, finished files.
 */
import { createLogger, type Logger } from '../common/logger.js';
import { InProcessMediaPlane } from '../media-ingress/in-process-media-plane.js';
import { createRecorder } from '../recorder/create-recorder.js';
import { configuredStorage } from '../storage/configured-storage.js';
import { Channel } from './channel.js';
import { ORPHAN_PERSIST_TIMEOUT_MS, type GatewaySide, type ShardSide, type ShardSettings } from './shard-protocol.js';

let logger: Logger = createLogger('info');
let running: InProcessMediaPlane | undefined;
// What the gateway sends while the plane is starting (it may, once it has asked this shard to
// start, as when it replaces a shard that died) waits for the start, in the order it came.
let markStarted!: (plane: InProcessMediaPlane) => void;
const started = new Promise<InProcessMediaPlane>((resolve) => (markStarted = resolve));

const shard: ShardSide = {
  async start({ index, config }: ShardSettings) {
    logger = createLogger(config.logLevel).child({ shard: index });
    const plane = new InProcessMediaPlane(createRecorder(configuredStorage(config, logger), logger, config), logger);
    await plane.start({
      control: {
        findAccount: (authId) => gateway.call('findAccount', authId),
        authenticate: (credentials) => gateway.call('authenticate', credentials),
        joinStream: (account, ref, callUuid, params, grantedMpcUuid) => gateway.call('joinStream', account, ref, callUuid, params, grantedMpcUuid),
        hangup: (mpcUuid, memberId, endedAtMs) => gateway.call('hangup', mpcUuid, memberId, endedAtMs),
      },
      files: {
        fileFinished: (recordingId, file) => gateway.call('fileFinished', recordingId, file),
        fail: (recordingId, reason) => gateway.call('fail', recordingId, reason),
        failKeepingWritten: (recordingId, reason) => gateway.call('failKeepingWritten', recordingId, reason),
        recordingStarted: (recordingId) => gateway.notify('recordingStarted', recordingId),
      },
    });
    running = plane;
    markStarted(plane);
    return { pid: process.pid };
  },
  stream: (socket, request, head) => void started.then((plane) => plane.accept(request, socket, Buffer.from(head))),
  recordingsChanged: (changes) => void started.then((plane) => plane.recordingsChanged(changes)),
  participantsChanged: (change) => void started.then((plane) => plane.participantsChanged(change)),
  stats: async () => ({ ...(await started).stats(), pid: process.pid, rss: process.memoryUsage().rss }),
  resetTickLag: () => void started.then((plane) => plane.resetTickLag()),
  stop: async () => running?.stop(),
};

// A terminal's Ctrl-C, or a service manager stopping the gateway's whole process group, reaches the
// shards too: the gateway stops them itself, once their streams are closed and their files finished.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => logger.debug({ signal }, 'signal left to the gateway'));

const gateway = new Channel<GatewaySide>(process, shard, (error, method) => logger.error({ err: error, method }, 'media shard message failed'));

// The gateway's end of the channel is gone (it died): what the files have queued is written out for
// the salvage at its restart, and this process ends.
process.on('disconnect', () => {
  const persisted = running?.recorder.persist() ?? Promise.resolve();
  const timeout = new Promise((resolve) => setTimeout(resolve, ORPHAN_PERSIST_TIMEOUT_MS).unref());
  void Promise.race([persisted, timeout]).finally(() => process.exit(0));
});
