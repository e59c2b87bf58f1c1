/** Absolute and relative URLs of the gateway's resources, as Plivo shapes them. */
export class PublicUrls {
  /** Set once the server listens, when no public URL is configured. */
  base = '';

  accountPath(authId: string): string {
    return `/v1/Account/${authId}`;
  }

  mpcPath(authId: string, friendlyName: string): string {
    return `${this.accountPath(authId)}/MultiPartyCall/name_${encodeURIComponent(friendlyName)}/`;
  }

  participantPath(authId: string, friendlyName: string, memberId: string): string {
    return `${this.mpcPath(authId, friendlyName)}Participant/${memberId}/`;
  }

  recordingPath(authId: string, recordingId: string): string {
    return `${this.accountPath(authId)}/Recording/${recordingId}/`;
  }

  recordingFileUrl(authId: string, recordingId: string, format: string): string {
    return `${this.base}${this.accountPath(authId)}/Recording/${recordingId}.${format}`;
  }

  /** Where one call's media stream is accepted with its stream token. */
  streamUrl(authId: string, mpcUuid: string, token: string): string {
    return `${this.base.replace(/^http/, 'ws')}${this.accountPath(authId)}/MultiPartyCall/uuid_${mpcUuid}/Stream/${token}`;
  }

  recordingResourceUrl(authId: string, recordingId: string): string {
    return `${this.base}${this.recordingPath(authId, recordingId)}`;
  }
}
