import { TERMINATION_CAUSES, type Mpc, type Participant, type TerminationCauseCode } from '@mpc/contracts';
import { plivoTimestamp } from '../common/plivo-time.js';
import type { PublicUrls } from '../common/public-urls.js';
import type { MpcRow, ParticipantRow } from '../persistence/schema.js';
import type { MpcWithRecording } from './calls.repository.js';
import { durationSeconds } from './mpc-lifecycle.js';

const timestampOrNull = (date: Date | null) => (date ? plivoTimestamp(date) : null);

export function presentMpc(mpc: MpcWithRecording, urls: PublicUrls): Mpc {
  const code = mpc.terminationCauseCode as TerminationCauseCode | null;
  return {
    billed_amount: null,
    billed_duration: null,
    creation_time: plivoTimestamp(mpc.createdAt),
    duration: durationSeconds(mpc.startedAt ?? mpc.createdAt, mpc.endedAt),
    end_time: timestampOrNull(mpc.endedAt),
    friendly_name: mpc.friendlyName,
    max_duration: mpc.maxDuration,
    max_participants: mpc.maxParticipants,
    mpc_uuid: mpc.mpcUuid,
    participants: `${urls.mpcPath(mpc.authId, mpc.friendlyName)}Participant/`,
    recording: mpc.recording ?? 'not-recording',
    resource_uri: urls.mpcPath(mpc.authId, mpc.friendlyName),
    start_time: timestampOrNull(mpc.startedAt),
    status: mpc.status,
    stay_alone: mpc.stayAlone,
    sub_account: null,
    termination_cause: code === null ? null : TERMINATION_CAUSES[code],
    termination_cause_code: code,
  };
}

export function presentParticipant(participant: ParticipantRow, mpc: MpcRow, urls: PublicUrls): Participant {
  const present = participant.exitedAt === null;
  return {
    billed_amount: null,
    billed_duration: null,
    call_uuid: participant.callUuid,
    coach_mode: present ? participant.coachMode : null,
    duration: durationSeconds(participant.joinedAt, participant.exitedAt),
    end_mpc_on_exit: participant.endMpcOnExit,
    exit_cause: participant.exitCause as Participant['exit_cause'],
    exit_time: timestampOrNull(participant.exitedAt),
    hold: present ? participant.hold : null,
    join_time: plivoTimestamp(participant.joinedAt),
    member_id: String(participant.memberId),
    mpc_uuid: participant.mpcUuid,
    mute: present ? participant.mute : null,
    resource_uri: urls.participantPath(mpc.authId, mpc.friendlyName, String(participant.memberId)),
    role: participant.role.toLowerCase() as Participant['role'],
    start_mpc_on_enter: participant.startMpcOnEnter,
  };
}
