export { createMpcClient, type MpcClientOptions } from './client.js';
export { MpcApiError, SignatureVerificationError } from './errors.js';
export type { BodyOf, MpcClient, OperationMethod, PathParamsOf, QueryOf, RequestOf, ResultOf } from './operation-types.js';
export { assertV3, newNonce, signV3, verifyV3, type SignV3Input, type VerifyV3Input, type SignedParams } from './signature.js';
export type { components, operations as DocumentedOperations, paths } from './generated/openapi.js';
export type {
  ErrorBody,
  FileFormat,
  Mpc,
  MpcRecordingCallback,
  MpcRecordingEvent,
  OperationId,
  Participant,
  ParticipantRecordingCallback,
  ParticipantRecordingEvent,
  RecordTrackType,
  Recording,
  Role,
  StartRecordingResponse,
} from '@mpc/contracts';
