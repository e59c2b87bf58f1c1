import { randomUUID } from 'node:crypto';
import { AddParticipantBodySchema, type AddParticipantBody, type MpcRef, type OperationInput } from '@mpc/contracts';
import { ApiError } from '../common/error-catalog.js';
import { signStreamToken } from '../media-ingress/stream-token.js';
import type { PublicUrls } from '../common/public-urls.js';
import { DAY_MS, isEmptyRange, timeRangeOf } from '../common/time-range.js';
import type { Database, Queryable } from '../persistence/database.js';
import type { AccountRow, MpcRow, ParticipantRow, RecordOnJoin } from '../persistence/schema.js';
import type { ChangeLog } from '../recordings/recording-observer.js';
import type { RecordingsService } from '../recordings/recordings.service.js';
import { presentMpc, presentParticipant } from './calls.presenter.js';
import type { CallsRepository } from './calls.repository.js';
import { activatesOnJoin, endCauseAfterLeave } from './mpc-lifecycle.js';

const WEEK_MS = 7 * DAY_MS;

type ExitCause = 'Kicked Out of Multiparty Call' | 'Participant Call Hangup';

export class CallsService {
  constructor(
    private readonly db: Database,
    private readonly calls: CallsRepository,
    private readonly recordings: RecordingsService,
    private readonly urls: PublicUrls,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Registers a participant, creating the MPC when no live one has the name. The gateway never
   * dials: the call_uuid given, or one generated here, is what the participant's media stream carries.
   */
  async addParticipant(account: AccountRow, ref: MpcRef, body: AddParticipantBody) {
    if (body.record && body.recording_callback_url) await this.recordings.checkCallbackUrl(body.recording_callback_url);
    return this.recordings.inTransaction(async (tx, log) => {
      const now = this.now();
      const mpc = await this.liveOrNewMpc(tx, account, ref, body, now);
      const present = await this.calls.presentParticipants(tx, mpc.mpcUuid);
      if (present.length >= mpc.maxParticipants) {
        throw new ApiError('invalid_state', `MPC ${mpc.friendlyName} already has its maximum of ${mpc.maxParticipants} participants`);
      }
      if (body.call_uuid && (await this.calls.findPresentCall(tx, body.call_uuid))) {
        throw new ApiError('invalid_state', `call ${body.call_uuid} is already in a multiparty call`);
      }
      const participant = await this.calls.insertParticipant(tx, {
        mpcUuid: mpc.mpcUuid,
        callUuid: body.call_uuid ?? randomUUID(),
        role: body.role,
        fromNumber: body.from ?? null,
        toNumber: body.to ?? null,
        coachMode: body.role === 'Supervisor' && body.coach_mode,
        mute: body.mute,
        hold: body.hold,
        startMpcOnEnter: body.start_mpc_on_enter,
        endMpcOnExit: body.end_mpc_on_exit,
        stayAlone: body.stay_alone,
        joinedAt: now,
      });
      if (activatesOnJoin(mpc.status, participant)) {
        await this.calls.updateMpc(tx, mpc.mpcUuid, { status: 'Active', startedAt: now });
        mpc.status = 'Active';
      }
      const recordOnJoin: RecordOnJoin | null = body.record
        ? {
            fileFormat: body.record_file_format,
            callbackUrl: body.recording_callback_url,
            callbackMethod: body.recording_callback_method,
            minMembers: body.record_min_member_count,
          }
        : mpc.recordOnJoin;
      await this.recordWhenReady(tx, log, mpc, recordOnJoin, present.length + 1);
      await this.notePresent(tx, log, mpc);
      return {
        calls: [
          {
            to: body.to,
            from: body.from,
            call_uuid: participant.callUuid,
            stream_url: this.urls.streamUrl(account.authId, mpc.mpcUuid, signStreamToken({ mpcUuid: mpc.mpcUuid, callUuid: participant.callUuid }, account.authToken)),
          },
        ],
        message: 'add participant action initiated',
        request_uuid: randomUUID(),
      };
    });
  }

  /**
   * A media stream arrived for `callUuid`: answers its participant, registering it (and the MPC,
   * for an unknown name) as add participant would when none was registered.
   */
  async joinStream(account: AccountRow, ref: MpcRef, callUuid: string, params: Record<string, string>, grantedMpcUuid?: string): Promise<{ mpc: MpcRow; participant: ParticipantRow }> {
    // A stream token lets its call into its own MPC only: on a path naming another, nothing is changed.
    if (grantedMpcUuid !== undefined && (await this.calls.findMpc(this.db, account.authId, ref))?.mpcUuid !== grantedMpcUuid) {
      throw new ApiError('authentication_failed', 'authentication failed: the stream token is not for the multiparty call this path names (another, or one that has ended)');
    }
    const present = await this.calls.findPresentCall(this.db, callUuid);
    if (!present) {
      const body = AddParticipantBodySchema.safeParse({ ...params, role: params.role ?? 'Customer', call_uuid: callUuid, from: undefined, to: undefined });
      if (!body.success) throw new ApiError('invalid_parameter', `bad stream parameters: ${body.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
      await this.addParticipant(account, ref, body.data);
    }
    // Under the MPC's lock: an end, a kick or a hangup made meanwhile is seen here, and one made
    // after waits for the join, so the stream is known to the media plane when its notice comes.
    return this.db.transaction(async (tx) => {
      // The MPC the path names (a name finds only a live one) must be the call's own.
      const mpc = await this.calls.findMpc(tx, account.authId, ref, { lock: true });
      const participant = await this.calls.findPresentCall(tx, callUuid);
      if (!participant) throw new ApiError('not_found', `call ${callUuid} is not in a multiparty call`);
      if (mpc?.mpcUuid !== participant.mpcUuid) throw new ApiError('invalid_state', `call ${callUuid} is in another multiparty call`);
      await this.calls.updateParticipants(tx, [participant.memberId], { streamedAt: this.now() });
      return { mpc, participant };
    });
  }

  /**
   * After a restart: the participants whose media streams were open have lost them, as their calls
   * would have dropped. They hang up, and their MPCs end as the lifecycle says.
   */
  async hangUpStreamsCutOff(): Promise<number> {
    const cutOff = await this.calls.presentStreamed(this.db);
    const byMpc = new Map<string, number[]>();
    for (const { mpcUuid, memberId } of cutOff) byMpc.set(mpcUuid, [...(byMpc.get(mpcUuid) ?? []), memberId]);
    // Together, as the crash cut them at once: one by one, the last would be left alone (1010) rather than the MPC emptied (1000).
    for (const [mpcUuid, memberIds] of byMpc) await this.hangupAll(mpcUuid, memberIds);
    return cutOff.length;
  }

  /** The friendly name of an account's MPC, which places its media on a shard. */
  async mpcNameOf(authId: string, mpcUuid: string): Promise<string | undefined> {
    return (await this.calls.findMpc(this.db, authId, { uuid: mpcUuid }))?.friendlyName;
  }

  /**
   * The participant's call ended (its media stream closed) at `endedAt`, which may be a while ago
   * when the database could not take the hangup at once.
   */
  async hangup(mpcUuid: string, memberId: number, endedAt = this.now()): Promise<void> {
    await this.hangupAll(mpcUuid, [memberId], endedAt);
  }

  private async hangupAll(mpcUuid: string, memberIds: number[], endedAt = this.now()): Promise<void> {
    await this.recordings.inTransaction(async (tx, log) => {
      const mpc = await this.calls.findMpcByUuid(tx, mpcUuid, { lock: true });
      const present = (await this.calls.findParticipants(tx, mpcUuid, memberIds.map(String))).filter((participant) => !participant.exitedAt);
      if (!mpc || present.length === 0) return;
      await this.leave(tx, log, mpc, present, 'Participant Call Hangup', endedAt);
    });
  }

  /** Ends every live MPC that has reached its max_duration (termination cause 2000). */
  async endOverdue(): Promise<number> {
    const overdue = await this.calls.overdueMpcs(this.db, this.now());
    for (const { mpcUuid } of overdue) {
      await this.recordings.inTransaction(async (tx, log) => {
        const mpc = await this.calls.findMpcByUuid(tx, mpcUuid, { lock: true });
        if (mpc && mpc.status !== 'Ended') await this.endMpc(tx, log, mpc, 2000);
      });
    }
    return overdue.length;
  }

  async activate(account: AccountRow, ref: MpcRef): Promise<void> {
    await this.recordings.inTransaction(async (tx, log) => {
      const mpc = await this.calls.findMpc(tx, account.authId, ref, { lock: true });
      if (!mpc || mpc.status !== 'Initialized') throw new ApiError('not_found', 'no multiparty call in the initialized state found');
      await this.calls.updateMpc(tx, mpc.mpcUuid, { status: 'Active', startedAt: this.now() });
      mpc.status = 'Active';
      const present = await this.calls.presentParticipants(tx, mpc.mpcUuid);
      await this.recordWhenReady(tx, log, mpc, mpc.recordOnJoin, present.length);
    });
  }

  async end(account: AccountRow, ref: MpcRef): Promise<void> {
    await this.recordings.inTransaction(async (tx, log) => {
      const mpc = await this.lockedMpc(tx, account, ref);
      if (mpc.status === 'Ended') throw new ApiError('invalid_state', `MPC ${mpc.friendlyName} has already ended`);
      await this.endMpc(tx, log, mpc, 3000);
    });
  }

  async get(account: AccountRow, ref: MpcRef) {
    const mpc = await this.calls.findMpcWithRecording(this.db, account.authId, ref);
    if (!mpc) throw new ApiError('not_found', 'multiparty call not found');
    return presentMpc(mpc, this.urls);
  }

  async list(account: AccountRow, query: OperationInput<'listMpcs'>['query']) {
    // Subaccounts are not modelled: every MPC is the main account's, none a subaccount's.
    if (query.sub_account !== undefined) return { rows: [], total: 0 };
    const end = timeRangeOf(query, 'end_time');
    const creation = { ...timeRangeOf(query, 'creation_time', '_'), ...timeRangeOf(query, 'creation_time') };
    // Plivo searches the last 7 days unless an end_time filter says otherwise.
    if (isEmptyRange(end) && isEmptyRange(creation)) creation.gte = new Date(this.now().getTime() - WEEK_MS);
    const status = query.status && ((query.status[0]!.toUpperCase() + query.status.slice(1)) as MpcRow['status']);
    const { rows, total } = await this.calls.listMpcs(this.db, account.authId, {
      friendlyName: query.friendly_name,
      status,
      terminationCauseCode: query.termination_cause_code,
      creation,
      end,
      limit: query.limit,
      offset: query.offset,
    });
    return { rows: rows.map((mpc) => presentMpc(mpc, this.urls)), total };
  }

  async listParticipants(account: AccountRow, ref: MpcRef, callUuid?: string) {
    const mpc = await this.lockedMpc(this.db, account, ref, false);
    const rows = await this.calls.listParticipants(this.db, mpc.mpcUuid, callUuid);
    return rows.map((participant) => presentParticipant(participant, mpc, this.urls));
  }

  async getParticipant(account: AccountRow, ref: MpcRef, memberId: string) {
    const mpc = await this.lockedMpc(this.db, account, ref, false);
    const [participant] = await this.calls.findParticipants(this.db, mpc.mpcUuid, [memberId]);
    if (!participant) throw new ApiError('not_found', `member ${memberId} not found in MPC ${mpc.friendlyName}`);
    return presentParticipant(participant, mpc, this.urls);
  }

  async updateParticipants(account: AccountRow, ref: MpcRef, selector: 'all' | string[], body: OperationInput<'updateParticipant'>['body']) {
    if (selector === 'all' && body.coach_mode !== undefined) {
      throw new ApiError('invalid_parameter', 'coach_mode cannot be set for member all');
    }
    return this.recordings.inTransaction(async (tx, log) => {
      const mpc = await this.lockedMpc(tx, account, ref);
      const targets = await this.presentTargets(tx, mpc, selector);
      await this.calls.updateParticipants(
        tx,
        targets.map((participant) => participant.memberId),
        { mute: body.mute, hold: body.hold, coachMode: body.coach_mode },
      );
      await this.notePresent(tx, log, mpc);
      const name = mpc.friendlyName;
      return {
        ...(body.mute !== undefined && { mute: `MPC: ${name} mute/unmute member(s) succeeded` }),
        ...(body.hold !== undefined && { hold: `MPC: ${name} hold/unhold member(s) succeeded` }),
        ...(body.coach_mode !== undefined && { coach_mode: `MPC: ${name} coach_mode enable/disable succeeded` }),
      };
    });
  }

  async kick(account: AccountRow, ref: MpcRef, selector: 'all' | string[]): Promise<void> {
    await this.recordings.inTransaction(async (tx, log) => {
      const mpc = await this.lockedMpc(tx, account, ref);
      const targets = await this.presentTargets(tx, mpc, selector);
      await this.leave(tx, log, mpc, targets, 'Kicked Out of Multiparty Call');
    });
  }

  /** Participants leave; their recordings complete, and the MPC ends when the lifecycle says so. */
  private async leave(tx: Queryable, log: ChangeLog, mpc: MpcRow, leavers: ParticipantRow[], cause: ExitCause, at = this.now()): Promise<void> {
    const ids = leavers.map((participant) => participant.memberId);
    await this.calls.updateParticipants(tx, ids, { exitedAt: at, exitCause: cause });
    await this.recordings.completeLive(tx, log, mpc.mpcUuid, { memberIds: ids, at });
    const remaining = await this.calls.presentParticipants(tx, mpc.mpcUuid);
    const endCause = leavers
      .map((leaver) => endCauseAfterLeave(leaver, remaining))
      .find((code) => code !== null);
    if (endCause) await this.endMpc(tx, log, mpc, endCause, at);
    else log.noteParticipants(mpc, remaining, false);
  }

  private async endMpc(tx: Queryable, log: ChangeLog, mpc: MpcRow, code: 1000 | 1010 | 2000 | 3000, now = this.now()): Promise<void> {
    const remaining = await this.calls.presentParticipants(tx, mpc.mpcUuid);
    await this.calls.updateParticipants(
      tx,
      remaining.map((participant) => participant.memberId),
      { exitedAt: now, exitCause: 'Multiparty Call Ended' },
    );
    await this.recordings.completeLive(tx, log, mpc.mpcUuid, { at: now });
    await this.calls.updateMpc(tx, mpc.mpcUuid, { status: 'Ended', endedAt: now, terminationCauseCode: code });
    log.noteParticipants(mpc, [], true);
  }

  /**
   * `record` on add participant asks for an MPC recording once the MPC is active with at least
   * `record_min_member_count` participants: it starts now if so, or waits on the MPC until it is.
   */
  private async recordWhenReady(tx: Queryable, log: ChangeLog, mpc: MpcRow, wish: RecordOnJoin | null, present: number): Promise<void> {
    if (!wish) return;
    if (mpc.status === 'Active' && present >= wish.minMembers) {
      await this.recordings.ensureMpcRecording(tx, mpc, wish, log);
      if (mpc.recordOnJoin) await this.calls.updateMpc(tx, mpc.mpcUuid, { recordOnJoin: null });
    } else if (wish !== mpc.recordOnJoin) {
      await this.calls.updateMpc(tx, mpc.mpcUuid, { recordOnJoin: wish });
    }
  }

  private async notePresent(tx: Queryable, log: ChangeLog, mpc: MpcRow): Promise<void> {
    log.noteParticipants(mpc, await this.calls.presentParticipants(tx, mpc.mpcUuid), false);
  }

  private async liveOrNewMpc(tx: Queryable, account: AccountRow, ref: MpcRef, body: AddParticipantBody, now: Date): Promise<MpcRow> {
    const existing = await this.calls.findMpc(tx, account.authId, ref, { lock: true });
    if (existing) {
      if (existing.status === 'Ended') throw new ApiError('invalid_state', `MPC ${existing.friendlyName} has ended`);
      return existing;
    }
    if ('uuid' in ref) throw new ApiError('not_found', 'multiparty call not found');
    const created = await this.calls.insertMpc(tx, {
      mpcUuid: randomUUID(),
      authId: account.authId,
      friendlyName: ref.friendlyName,
      status: 'Initialized',
      stayAlone: body.stay_alone,
      maxDuration: body.max_duration,
      maxParticipants: body.max_participants,
      createdAt: now,
    });
    // Another request created it between our look and our insert: join that one.
    return created ?? (await this.lockedMpc(tx, account, ref));
  }

  private async lockedMpc(tx: Queryable, account: AccountRow, ref: MpcRef, lock = true): Promise<MpcRow> {
    const mpc = await this.calls.findMpc(tx, account.authId, ref, { lock });
    if (!mpc) throw new ApiError('not_found', 'multiparty call not found');
    return mpc;
  }

  private async presentTargets(tx: Queryable, mpc: MpcRow, selector: 'all' | string[]): Promise<ParticipantRow[]> {
    const targets = await this.calls.findParticipants(tx, mpc.mpcUuid, selector);
    const present = targets.filter((participant) => participant.exitedAt === null);
    if (selector !== 'all' && present.length < selector.length) {
      throw new ApiError('not_found', `member ${selector.join(',')} not found among the participants of MPC ${mpc.friendlyName}`);
    }
    if (present.length === 0) throw new ApiError('not_found', `MPC ${mpc.friendlyName} has no participants`);
    return present;
  }
}
