import { fork, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { MpcIdSchema } from '@mpc/contracts';
import { ApiError, knownApiError } from '../common/error-catalog.js';
import type { Logger } from '../common/logger.js';
import { destroyOnError, refuseUnread } from '../common/raw-socket.js';
import { serveIgnoringUpgrade } from '../common/upgrade-ignored.js';
import type { MediaPlaneStats } from '../media-ingress/in-process-media-plane.js';
import { addStreamTotals, noStreamTotals, parseStreamPath, type StreamPath } from '../media-ingress/media-ingress.js';
import type { MediaPlane, MediaServices, ParticipantsChange, RecordingChange } from '../recordings/recording-observer.js';
import { Channel } from './channel.js';
import { shardIndex } from './shard-placement.js';
import type { GatewaySide, ShardSettings, ShardSide, ShardStats } from './shard-protocol.js';

/** How long a shard has to finish its files when the gateway shuts down. */
const STOP_TIMEOUT_MS = 30_000;

interface Shard {
  index: number;
  process: ChildProcess;
  channel: Channel<ShardSide>;
  /** Recordings live on this shard, and the participants streaming into it (member ids by MPC): what its crash would leave behind. */
  recordings: Set<string>;
  streams: Map<string, Set<number>>;
  /** The changes sent for recordings the shard has not yet confirmed starting: a start sent as it died is its successor's. */
  unconfirmed: Map<string, RecordingChange[]>;
}

export interface MediaShardsOptions {
  count: number;
  settings: ShardSettings['config'];
  logger: Logger;
}

/**
 * The live media plane spread over child processes ("media shards"), so mixing uses every core and
 * the API's work never delays a mixing tick. Each MPC is mixed on one shard: streams are routed by
 * the MPC their URL names (the socket moves to the shard before the WebSocket handshake), and
 * recording changes follow the MPC.
 */
export class MediaShards implements MediaPlane {
  private readonly shards: Shard[] = [];
  /** The shards of MPCs with media or recordings, by uuid, for what names an MPC only by its uuid. */
  private readonly placed = new Map<string, Shard>();
  private stopping = false;
  /** Set by start. */
  private services!: MediaServices;

  constructor(private readonly options: MediaShardsOptions) {}

  async start(services: MediaServices): Promise<void> {
    this.services = services;
    await Promise.all(Array.from({ length: this.options.count }, (_, index) => this.spawn(index)));
  }

  /** Routes each stream's upgrade request to the shard of its MPC. */
  attach(http: Server): void {
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = parseStreamPath(request.url);
      if (!path) return serveIgnoringUpgrade(http, request, socket, head);
      // Node took its own error listener off the socket: while the route is looked up, and until the
      // shard has the socket, a client's reset would otherwise be an uncaught error.
      socket.on('error', destroyOnError);
      void this.route(path, request, socket as Socket, head).catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'media stream routing failed');
        socket.destroy();
      });
    });
  }

  recordingsChanged(changes: readonly RecordingChange[]): void {
    const byShard = new Map<Shard, RecordingChange[]>();
    for (const change of changes) {
      const { mpcUuid, authId, recordingId } = change.recording;
      let shard = this.placed.get(mpcUuid);
      if (!shard && change.mpcName !== undefined) {
        shard = this.shardOfName(authId, change.mpcName);
        this.placed.set(mpcUuid, shard);
      }
      // Only a start places an MPC; a change of a recording no shard has is nobody's to follow.
      if (!shard) continue;
      if (change.event === 'Initiated') {
        shard.recordings.add(recordingId);
        shard.unconfirmed.set(recordingId, [change]);
      } else {
        shard.unconfirmed.get(recordingId)?.push(change);
      }
      const batch = byShard.get(shard);
      if (batch) batch.push(change);
      else byShard.set(shard, [change]);
    }
    for (const [shard, batch] of byShard) shard.channel.notify('recordingsChanged', batch);
  }

  /**
   * Goes to the MPC's shard by its name, placed or not: a stream joining there may have read the
   * participants before this change, and must not miss it.
   */
  participantsChanged(change: ParticipantsChange): void {
    const { mpcUuid, authId, mpcName, present, ended } = change;
    const shard = this.shardOfName(authId, mpcName);
    shard.channel.notify('participantsChanged', change);
    if (ended) this.placed.delete(mpcUuid);
    // The shard closes the streams of participants who left, with no hangup to report: they are no longer its own.
    const streaming = shard.streams.get(mpcUuid);
    if (!streaming) return;
    const stillPresent = new Set(present.map((participant) => participant.memberId));
    for (const memberId of streaming) if (!stillPresent.has(memberId)) streaming.delete(memberId);
    if (streaming.size === 0) shard.streams.delete(mpcUuid);
  }

  /** Every shard's figures, and the totals; the tick lag is the worst shard's, as each mixes on its own. */
  async stats(): Promise<MediaPlaneStats & { shards: ShardStats[] }> {
    // A shard that has just died is left out until its successor answers.
    const answers = await Promise.all(this.shards.map((shard) => shard.channel.call('stats').catch(() => undefined)));
    const each = answers.filter((stats) => stats !== undefined);
    const worst = each.reduce<ShardStats | undefined>((a, b) => (a && a.tick_lag_ms.p99 >= b.tick_lag_ms.p99 ? a : b), undefined);
    const sum = (key: 'calls' | 'sources' | 'recordings' | 'late_frames') => each.reduce((total, stats) => total + stats[key], 0);
    return {
      calls: sum('calls'),
      sources: sum('sources'),
      recordings: sum('recordings'),
      late_frames: sum('late_frames'),
      streams: each.reduce((totals, stats) => addStreamTotals(totals, stats.streams), noStreamTotals()),
      encoder_lag_ms: Math.max(0, ...each.map((stats) => stats.encoder_lag_ms)),
      tick_ms: worst?.tick_ms ?? 0,
      tick_lag_ms: worst?.tick_lag_ms ?? { p50: 0, p99: 0, max: 0, samples: 0 },
      shards: each,
    };
  }

  resetTickLag(): void {
    for (const shard of this.shards) shard.channel.notify('resetTickLag');
  }

  /** Closes every stream and finishes every file, then ends the shards. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.shards.map(async (shard) => {
        const timeout = new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), STOP_TIMEOUT_MS).unref());
        const stopped = await Promise.race([shard.channel.call('stop').catch(() => undefined), timeout]);
        if (stopped === 'timed out') this.options.logger.warn({ shard: shard.index, waited_ms: STOP_TIMEOUT_MS }, 'media shard did not stop in time; its files unfinished are salvaged by the next start');
        if (shard.process.connected) shard.process.disconnect();
        const { exitCode, signalCode } = shard.process;
        if (exitCode === null && signalCode === null) await new Promise((resolve) => shard.process.once('exit', resolve));
      }),
    );
  }

  private async route(path: StreamPath, request: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    let shard: Shard;
    try {
      shard = await this.shardOfStream(path.authId, path.mpcId);
    } catch (error) {
      // Where the MPC is mixed cannot be told now: the client is to come again, not given up on.
      if (knownApiError(error)?.code !== 'database_unavailable') throw error;
      this.options.logger.warn({ err: error }, 'media stream refused: the database cannot be reached');
      refuseUnread(socket, new ApiError('database_unavailable'));
      return;
    }
    if (socket.destroyed) return;
    // A well-behaved client sends nothing before the handshake's answer; anything early goes along.
    const early = socket.readableLength > 0 ? (socket.read(socket.readableLength) as Buffer | null) : null;
    // This process keeps the socket open until the shard has it, and must not read what arrives for
    // the shard meanwhile (the first message, once the shard has answered the handshake).
    (socket as unknown as { _handle?: { readStop(): number } })._handle?.readStop();
    shard.channel.notifyWithSocket('stream', socket, { method: request.method, url: request.url, headers: request.headers }, early ? Buffer.concat([head, early]) : head);
  }

  /** The shard of the MPC a stream's path names. One that names nothing goes anywhere, to be refused there. */
  private async shardOfStream(authId: string, mpcId: string): Promise<Shard> {
    const ref = MpcIdSchema.safeParse(mpcId);
    if (!ref.success) return this.shards[0]!;
    if ('friendlyName' in ref.data) return this.shardOfName(authId, ref.data.friendlyName);
    const placed = this.placed.get(ref.data.uuid);
    if (placed) return placed;
    const name = await this.services.control.mpcNameOf(authId, ref.data.uuid);
    return name === undefined ? this.shards[0]! : this.shardOfName(authId, name);
  }

  /**
   * Where an MPC is mixed: the hash of its account and name, which every stream URL and every
   * recording start can tell, including a stream that names an MPC not made yet.
   */
  private shardOfName(authId: string, friendlyName: string): Shard {
    return this.shards[shardIndex(`${authId}/${friendlyName}`, this.shards.length)]!;
  }

  private async spawn(index: number): Promise<void> {
    const { logger } = this.options;
    const child = fork(new URL('./shard-main.js', import.meta.url), [], { serialization: 'advanced' });
    const shard: Shard = { index, process: child, channel: undefined!, recordings: new Set(), streams: new Map(), unconfirmed: new Map() };
    shard.channel = new Channel<ShardSide>(child, this.gatewaySide(shard), (error, method) => logger.error({ err: error, method, shard: index }, 'media shard call failed'));
    this.shards[index] = shard;
    child.once('exit', (code, signal) => {
      shard.channel.close(new Error(`media shard ${index} exited`));
      if (!this.stopping) void this.replace(shard, code, signal);
    });
    const { pid } = await shard.channel.call('start', { index, config: this.options.settings });
    logger.info({ shard: index, pid }, 'media shard started');
  }

  /**
   * A shard died: its recordings are finished from what storage holds, as after a restart, its
   * participants have hung up, and a new shard takes its place for what comes next.
   */
  private async replace(shard: Shard, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const { logger } = this.options;
    const { files, control } = this.services;
    logger.error({ shard: shard.index, code, signal, recordings: shard.recordings.size, streams: [...shard.streams.values()].reduce((sum, members) => sum + members.size, 0) }, 'media shard exited; starting another');
    for (const [mpcUuid, placedOn] of this.placed) if (placedOn === shard) this.placed.delete(mpcUuid);
    await this.spawn(shard.index).catch((error: unknown) => logger.error({ err: error, shard: shard.index }, 'media shard could not be started again'));
    // A live recording the dead shard never started (sent to it as it died) starts on its successor
    // instead; one that has ended since has no audio anywhere, and is salvaged (failed) with the rest.
    const restart = [...shard.unconfirmed.values()].filter((changes) => !changes.some(({ event }) => event === 'Completed' || event === 'Failed'));
    for (const [initiated] of restart) shard.recordings.delete(initiated!.recording.recordingId);
    if (restart.length > 0) {
      logger.warn({ shard: shard.index, recordings: restart.length }, 'recordings the dead media shard never started start on its successor');
      // From their start, which the successor's engine, made now, would otherwise cut off.
      this.recordingsChanged(restart.flat().map((change) => (change.event === 'Initiated' ? { ...change, carriedOn: true } : change)));
    }
    for (const recordingId of shard.recordings) await files.salvage(recordingId).catch((error: unknown) => logger.error({ err: error, recording_id: recordingId }, 'salvage failed'));
    for (const [mpcUuid, members] of shard.streams) {
      for (const memberId of members) await control.hangup(mpcUuid, memberId).catch(() => undefined);
    }
  }

  /** The gateway's answers to one shard; they also keep track of what lives on it. */
  private gatewaySide(shard: Shard): GatewaySide {
    const { control, files } = this.services;
    const forget = (recordingId: string) => {
      shard.recordings.delete(recordingId);
      shard.unconfirmed.delete(recordingId);
    };
    return {
      findAccount: (authId) => control.findAccount(authId),
      authenticate: (credentials) => control.authenticate(credentials),
      joinStream: async (account, ref, callUuid, params, grantedMpcUuid) => {
        const joined = await control.joinStream(account, ref, callUuid, params, grantedMpcUuid);
        const { mpcUuid, authId, friendlyName } = joined.mpc;
        if (this.shardOfName(authId, friendlyName) !== shard) throw new ApiError('invalid_state', 'the stream reached another media shard than its multiparty call');
        this.placed.set(mpcUuid, shard);
        const { memberId } = joined.participant;
        shard.streams.set(mpcUuid, (shard.streams.get(mpcUuid) ?? new Set()).add(memberId));
        return joined;
      },
      hangup: async (mpcUuid, memberId, endedAtMs) => {
        const members = shard.streams.get(mpcUuid);
        members?.delete(memberId);
        if (members?.size === 0) shard.streams.delete(mpcUuid);
        await control.hangup(mpcUuid, memberId, endedAtMs);
      },
      recordingStarted: (recordingId) => {
        shard.unconfirmed.delete(recordingId);
      },
      fileFinished: async (recordingId, file) => {
        forget(recordingId);
        await files.fileFinished(recordingId, file);
      },
      fail: async (recordingId, reason) => {
        forget(recordingId);
        await files.fail(recordingId, reason);
      },
      failKeepingWritten: async (recordingId, reason) => {
        forget(recordingId);
        await files.failKeepingWritten(recordingId, reason);
      },
    };
  }
}
