import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { CallUuidSchema, MpcIdSchema, STREAM_CLOSE_CODES, type MpcRef } from '@mpc/contracts';
import type { SourceStats } from '@mpc/media';
import { verifyV3 } from '@mpc/client';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { parseBasicAuth, type BasicCredentials } from '../accounts/credentials.js';
import { ApiError, knownApiError, loggedFailure } from '../common/error-catalog.js';
import { reasonOf } from '../common/reason-of.js';
import { retryUntilDone } from '../common/retry.js';
import { refuseUnread } from '../common/raw-socket.js';
import { serveIgnoringUpgrade } from '../common/upgrade-ignored.js';
import type { Logger } from '../common/logger.js';
import type { AccountRow, MpcRow, ParticipantRow } from '../persistence/schema.js';
import type { RecorderService } from '../recorder/recorder.service.js';
import type { ParticipantsChange } from '../recordings/recording-observer.js';
import { StreamParser, type StreamStart } from './stream-parser.js';
import { verifyStreamToken, type StreamGrant } from './stream-token.js';

/** `/v1/Account/{auth_id}/MultiPartyCall/{mpc_id}/Stream/[{token}]`: the path names account and MPC. */
const STREAM_PATH = /^\/v1\/Account\/([^/]+)\/MultiPartyCall\/([^/]+)\/Stream(?:\/([^/]+))?\/?$/;

export interface StreamPath {
  authId: string;
  mpcId: string;
  token?: string;
}

/** The account, MPC and stream token a stream's URL names, or undefined when it is no stream URL. */
export function parseStreamPath(url: string | undefined): StreamPath | undefined {
  try {
    // A request target such as `//[::1` is no URL at all: no stream either.
    const match = STREAM_PATH.exec(new URL(url ?? '/', 'http://gateway').pathname);
    if (!match) return undefined;
    return { authId: decodeURIComponent(match[1]!), mpcId: decodeURIComponent(match[2]!), token: match[3] === undefined ? undefined : decodeURIComponent(match[3]) };
  } catch {
    return undefined;
  }
}

/** The upgrade request as a stream needs it: all of it can cross to another process. */
export type StreamRequest = Pick<IncomingMessage, 'method' | 'url' | 'headers'>;

/** What a stream asks of the control plane: the services in this process, or a media shard's channel to them. */
export interface StreamControl {
  findAccount(authId: string): Promise<AccountRow | undefined>;
  authenticate(credentials: BasicCredentials): Promise<AccountRow | undefined>;
  /** Joins the call's stream to the MPC the path names; one with a stream token, only if that is the MPC the token grants. */
  joinStream(account: AccountRow, ref: MpcRef, callUuid: string, params: Record<string, string>, grantedMpcUuid?: string): Promise<{ mpc: MpcRow; participant: ParticipantRow }>;
  /** The participant's call ended at `endedAtMs` (epoch ms; now if not given): its stream closed. */
  hangup(mpcUuid: string, memberId: number, endedAtMs?: number): Promise<void>;
}

export type StreamRecorder = Pick<RecorderService, 'streamStarted' | 'streamAudio' | 'streamEnded' | 'sourceStats'>;

/** The counts of the streams that joined and have ended, summed: what their `media stream ended` lines gave. */
export type StreamTotals = { ended: number; messages: number; malformed: number } & SourceStats;

export const noStreamTotals = (): StreamTotals => ({ ended: 0, messages: 0, malformed: 0, placed: 0, shifted: 0, clipped: 0, realigned: 0, late: 0, ahead: 0 });

/** Adds `counts` into `totals`, key by key. */
export function addStreamTotals(totals: StreamTotals, counts: Partial<StreamTotals>): StreamTotals {
  for (const key of Object.keys(totals) as (keyof StreamTotals)[]) totals[key] += counts[key] ?? 0;
  return totals;
}

/** Largest WebSocket message: a 20 ms frame of 16 kHz PCM is 640 bytes; this leaves ample room. */
export const MAX_STREAM_MESSAGE_BYTES = 64 * 1024;

/** How long a stream may stay open without a valid start message. */
export const STREAM_START_TIMEOUT_MS = 10_000;

/** How long an MPC's end is remembered, for a stream whose join it overtook on its way (see participantsChanged). */
const ENDED_REMEMBERED_MS = 60_000;

interface StreamAuth {
  account: AccountRow;
  mpc: MpcRef;
  grant?: StreamGrant;
}

/** A stream that has joined its MPC, as the MPC's participant changes reach it. */
interface LiveStream {
  readonly callUuid: string;
  /** The participant left the MPC: the stream closes, and its audio leaves the mix. */
  leave(reason: string): void;
}

/** How a stream is closed for an error the API would answer with `error.status`. */
function closeCodeOf(error: ApiError): number {
  if (error.status === 401) return STREAM_CLOSE_CODES.unauthorized;
  if (error.status === 404) return STREAM_CLOSE_CODES.notFound;
  if (error.status === 503) return STREAM_CLOSE_CODES.tryAgainLater;
  return STREAM_CLOSE_CODES.badStart;
}

class StreamRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Takes participants' live audio over WebSocket. A stream must prove the account (credentials, a
 * stream token from add participant, or Plivo's V3 signature on the upgrade); any other is
 * closed with 4401 and records nothing. Malformed messages are counted and dropped.
 */
export class MediaIngress {
  private readonly server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_STREAM_MESSAGE_BYTES,
    // Plivo offers `audio.plivo.com`; some of its peers fail the handshake unless it is echoed.
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });

  /** Hangups being recorded, by call leg: a shutdown waits for them, and a stream of that call waits before it joins. */
  private readonly hangups = new Map<string, Promise<void>>();
  /** The streams of each MPC that have joined, by MPC uuid. */
  private readonly live = new Map<string, Set<LiveStream>>();
  /** Streams joining, by call leg: whether each took the call over. */
  private readonly joins = new Map<string, Promise<boolean>>();
  /** MPCs that ended lately, with when (performance.now()), oldest first. */
  private readonly ended = new Map<string, number>();
  private closing = false;
  readonly streamTotals = noStreamTotals();

  constructor(
    private readonly control: StreamControl,
    private readonly recorder: StreamRecorder,
    private readonly logger: Logger,
  ) {}

  attach(http: Server): void {
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!parseStreamPath(request.url)) return serveIgnoringUpgrade(http, request, socket, head);
      this.accept(request, socket, head);
    });
  }

  /** Takes an upgrade request: a stream URL becomes a stream, anything else is answered 404. */
  accept(request: StreamRequest, socket: Duplex, head: Buffer): void {
    const path = parseStreamPath(request.url);
    if (!path) {
      refuseUnread(socket, new ApiError('not_found', 'no media stream at this path'));
      return;
    }
    this.server.handleUpgrade(request as IncomingMessage, socket, head, (ws) => this.serve(ws, request, path));
  }

  /** Closes every stream, and waits (up to `timeoutMs`) until their participants' hangups are recorded. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closing = true;
    for (const client of this.server.clients) client.close(1001, 'gateway shutting down');
    this.server.close();
    const deadline = performance.now() + timeoutMs;
    // Polled on a timer: the streams close and the hangups are answered through I/O, which this loop must let run.
    while ((this.server.clients.size > 0 || this.hangups.size > 0) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Participants left the MPC (kicked, or it ended): their streams are closed, as their calls would
   * be hung up, and their audio leaves the mix.
   */
  participantsChanged({ mpcUuid, present, ended }: ParticipantsChange): void {
    if (ended) this.rememberEnded(mpcUuid);
    const streams = this.live.get(mpcUuid);
    if (!streams) return;
    const presentCalls = new Set(present.map((participant) => participant.callUuid));
    for (const stream of streams) {
      if (ended) stream.leave('the multiparty call ended');
      else if (!presentCalls.has(stream.callUuid)) stream.leave('the participant left the multiparty call');
    }
  }

  /**
   * Notes that the MPC ended. A stream that joined it just before may learn so only after this
   * notice: the join's answer and the notice can reach a media shard together, and the notice be
   * handled first. The stream is then closed as it joins, rather than left in a call that is over.
   */
  private rememberEnded(mpcUuid: string): void {
    const now = performance.now();
    for (const [oldest, at] of this.ended) {
      if (now - at < ENDED_REMEMBERED_MS) break;
      this.ended.delete(oldest);
    }
    this.ended.set(mpcUuid, now);
  }

  /**
   * Records the hangup, again while the database cannot take it (a server that is down comes back),
   * until the streams close for a stop: the restart hangs up participants whose streams were cut.
   */
  private recordHangup(callUuid: string, hangup: () => Promise<void>): void {
    const previous = this.hangups.get(callUuid) ?? Promise.resolve();
    const retried = () =>
      retryUntilDone(hangup, {
        giveUp: () => this.closing,
        onFailure: (error, failures) => this.logger.warn({ ...loggedFailure(error), call_uuid: callUuid, failures }, 'recording a hangup failed; trying again'),
      });
    const done: Promise<void> = previous.then(retried).then(() => undefined);
    this.hangups.set(callUuid, done);
    void done.finally(() => {
      if (this.hangups.get(callUuid) === done) this.hangups.delete(callUuid);
    });
  }

  private serve(ws: WebSocket, request: StreamRequest, { authId, mpcId, token }: StreamPath): void {
    const parser = new StreamParser();
    const counts = { messages: 0, malformed: 0 };
    let session: { mpcUuid: string; callUuid: string; memberId: number; sourceId?: string } | undefined;
    let ended = false;
    /** The participant left the MPC before its stream ended: there is no hangup to record. */
    let left = false;
    let auth: StreamAuth | undefined;
    // Messages are handled one after another, in order. While something asynchronous is under way
    // (the authentication, which messages may arrive before, or a start) they wait in this chain;
    // otherwise, as for every audio frame, they are handled at once.
    let chain: Promise<void> | undefined;
    const enqueue = (work: () => void | Promise<void>) => {
      const link: Promise<void> = (chain ?? Promise.resolve()).then(work);
      chain = link;
      link.then(() => {
        if (chain === link) chain = undefined;
      }, refuse);
    };

    let refused = false;
    const refuse = (error: unknown) => {
      if (refused) return;
      refused = true;
      const known = knownApiError(error);
      const refusal = error instanceof StreamRefused ? error : known ? new StreamRefused(closeCodeOf(known), known.message) : new StreamRefused(1011, 'internal error');
      if (!(error instanceof StreamRefused || known)) this.logger.error({ err: error }, 'media stream failed');
      // What failed beneath (the database's own words) goes to the log only.
      const cause = reasonOf(error);
      this.logger.warn({ code: refusal.code, reason: refusal.message, ...(cause !== refusal.message && { cause }) }, 'media stream refused');
      end();
      ws.close(refusal.code, closeReason(refusal.message));
    };

    const onStart = async (auth: StreamAuth, start: StreamStart) => {
      const callUuid = auth.grant?.callUuid ?? start.params.call_uuid ?? start.callUuid;
      if (!CallUuidSchema.safeParse(callUuid).success) throw new StreamRefused(STREAM_CLOSE_CODES.badStart, 'the start message names no valid call uuid');
      let joined!: (taken: boolean) => void;
      const joining = new Promise<boolean>((resolve) => (joined = resolve));
      this.joins.set(callUuid, joining);
      try {
        // A stream of this call that just ended may not have hung up yet: join after it, as a new participant.
        await this.hangups.get(callUuid);
        const { mpc, participant } = await this.control.joinStream(auth.account, auth.mpc, callUuid, start.params, auth.grant?.mpcUuid);
        if (this.ended.has(mpc.mpcUuid)) throw new StreamRefused(STREAM_CLOSE_CODES.normal, 'the multiparty call ended');
        // One stream per call: a newer one (a client reconnecting before the old socket is seen to close) takes over.
        for (const other of this.live.get(mpc.mpcUuid) ?? []) {
          if (other.callUuid === participant.callUuid) other.leave('replaced by a newer stream of this call');
        }
        session = { mpcUuid: mpc.mpcUuid, callUuid: participant.callUuid, memberId: participant.memberId };
        const untimed = start.framing === 'binary';
        session.sourceId = this.recorder.streamStarted(mpc.mpcUuid, participant.callUuid, start.sampleRate, !participant.mute && !participant.hold, untimed);
        const streams = this.live.get(mpc.mpcUuid) ?? new Set<LiveStream>();
        streams.add(stream);
        this.live.set(mpc.mpcUuid, streams);
        joined(true);
        this.logger.info({ mpc_uuid: mpc.mpcUuid, member_id: participant.memberId, framing: start.framing, sample_rate: start.sampleRate }, 'media stream started');
      } finally {
        joined(false);
        if (this.joins.get(callUuid) === joining) this.joins.delete(callUuid);
      }
    };

    const end = () => {
      if (ended) return;
      ended = true;
      if (!session) return;
      const { mpcUuid, callUuid, sourceId, memberId } = session;
      const streams = this.live.get(mpcUuid);
      streams?.delete(stream);
      if (streams?.size === 0) this.live.delete(mpcUuid);
      const stats = sourceId === undefined ? undefined : this.recorder.sourceStats(mpcUuid, sourceId);
      if (sourceId !== undefined) this.recorder.streamEnded(mpcUuid, sourceId);
      this.logger.info({ mpc_uuid: mpcUuid, member_id: memberId, ...counts, ...stats, left }, 'media stream ended');
      addStreamTotals(this.streamTotals, { ended: 1, ...counts, ...stats });
      if (left) return;
      // The call ended now, though the database may take its hangup only later (an outage).
      const endedAtMs = Date.now();
      const hangup = () => this.recordHangup(callUuid, () => this.control.hangup(mpcUuid, memberId, endedAtMs));
      // A newer stream of the call is joining (a client switching sockets): the call goes on in it, unless that join fails.
      const joining = this.joins.get(callUuid);
      if (joining) void joining.then((taken) => taken || hangup());
      else hangup();
    };

    const stream: LiveStream = {
      get callUuid() {
        return session!.callUuid;
      },
      leave(reason: string) {
        left = true;
        end();
        ws.close(STREAM_CLOSE_CODES.normal, reason);
      },
    };

    /** Handles one message; answers a promise only for the work that cannot be done at once. */
    const handle = (data: RawData, isBinary: boolean): Promise<void> | undefined => {
      if (ended) return undefined;
      counts.messages += 1;
      const event = parser.handle(toBuffer(data), isBinary);
      switch (event.kind) {
        case 'start':
          return onStart(auth!, event);
        case 'audio': {
          if (session?.sourceId === undefined) return undefined;
          // How each frame was placed is counted by the mix, for the line at the stream's end.
          this.recorder.streamAudio(session.mpcUuid, session.sourceId, event.timestampMs, event.samples);
          return undefined;
        }
        case 'stop':
          end();
          ws.close(STREAM_CLOSE_CODES.normal, 'stream stopped');
          return undefined;
        case 'bad-start':
          throw new StreamRefused(STREAM_CLOSE_CODES.badStart, event.reason);
        case 'malformed':
          counts.malformed += 1;
          if (!parser.started && counts.malformed >= 3) throw new StreamRefused(STREAM_CLOSE_CODES.badStart, `no valid start message: ${event.reason}`);
          return undefined;
        case 'ignored':
          return undefined;
      }
    };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (chain) return enqueue(() => handle(data, isBinary));
      try {
        const pending = handle(data, isBinary);
        if (pending) enqueue(() => pending);
      } catch (error) {
        refuse(error);
      }
    });
    ws.on('close', () => {
      if (chain) void chain.then(end, end);
      else end();
    });
    // The socket's own errors (a message over the limit, a bad frame) close it with their code; their stack says nothing more.
    ws.on('error', (error: Error & { code?: string }) => this.logger.warn({ code: error.code, reason: error.message }, 'media stream error'));
    enqueue(async () => {
      auth = await this.authenticate(request, authId, mpcId, token);
    });
    const startDeadline = setTimeout(() => {
      if (!parser.started) refuse(new StreamRefused(STREAM_CLOSE_CODES.badStart, `no valid start message within ${STREAM_START_TIMEOUT_MS / 1000} s`));
    }, STREAM_START_TIMEOUT_MS);
    ws.once('close', () => clearTimeout(startDeadline));
  }

  private async authenticate(request: StreamRequest, authId: string, mpcId: string, token: string | undefined): Promise<StreamAuth> {
    const mpc = MpcIdSchema.safeParse(mpcId);
    if (!mpc.success) throw new StreamRefused(STREAM_CLOSE_CODES.notFound, 'the path names no multiparty call');
    const account = await this.control.findAccount(authId);
    if (!account) throw new StreamRefused(STREAM_CLOSE_CODES.unauthorized, 'authentication failed');
    if (token !== undefined) {
      // Whether it is for the MPC the path names is for the join to tell (a name needs the database).
      const grant = verifyStreamToken(token, account.authToken);
      if (!grant) throw new StreamRefused(STREAM_CLOSE_CODES.unauthorized, 'authentication failed: bad stream token');
      return { account, mpc: mpc.data, grant };
    }
    const credentials = parseBasicAuth(request.headers.authorization);
    if (credentials) {
      const authenticated = await this.control.authenticate(credentials);
      if (authenticated?.authId !== account.authId) throw new StreamRefused(STREAM_CLOSE_CODES.unauthorized, 'authentication failed');
      return { account, mpc: mpc.data };
    }
    if (this.plivoSigned(request, account.authToken)) return { account, mpc: mpc.data };
    throw new StreamRefused(STREAM_CLOSE_CODES.unauthorized, 'authentication failed: send credentials, a stream token or a Plivo signature');
  }

  /** Plivo's V3 signature on the upgrade; which URL Plivo signs is not documented, so each spelling is tried. */
  private plivoSigned(request: StreamRequest, authToken: string): boolean {
    const signature = request.headers['x-plivo-signature-v3'];
    const nonce = request.headers['x-plivo-signature-v3-nonce'];
    if (typeof signature !== 'string' || typeof nonce !== 'string') return false;
    const host = request.headers.host ?? '';
    return ['wss', 'ws', 'https', 'http'].some((scheme) =>
      verifyV3({ method: 'GET', url: `${scheme}://${host}${request.url ?? '/'}`, nonce, authToken, signature }),
    );
  }
}

/** A close frame's reason holds at most 123 bytes of UTF-8 (ws throws beyond): longer text is cut at a character. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= 123) return text;
  // Decoding a cut through a character's bytes ends in U+FFFD: drop it.
  return bytes.subarray(0, 123).toString('utf8').replace(/\uFFFD$/, '');
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
