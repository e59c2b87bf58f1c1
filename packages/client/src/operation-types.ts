import type { OperationId, Operations } from '@mpc/contracts';
import type { operations as DocumentedOperations, paths } from './generated/openapi.js';

type Documented<K extends OperationId> = DocumentedOperations[K];

/** Path parameters the caller supplies: every one but `auth_id`, which the client fills in. */
export type PathParamsOf<K extends OperationId> = Omit<Documented<K>['parameters']['path'], 'auth_id'>;

export type QueryOf<K extends OperationId> = NonNullable<Documented<K>['parameters']['query']>;

export type BodyOf<K extends OperationId> = JsonContent<NonNullable<Documented<K>['requestBody']>>;

type JsonContent<T> = [T] extends [never] ? never : T extends { content: { 'application/json': infer B } } ? B : never;

type PathPart<K extends OperationId> = keyof PathParamsOf<K> extends never ? { path?: Record<string, never> } : { path: PathParamsOf<K> };
type QueryPart<K extends OperationId> = [QueryOf<K>] extends [never] ? unknown : { query?: QueryOf<K> };
type BodyPart<K extends OperationId> = [BodyOf<K>] extends [never] ? unknown : { body?: BodyOf<K> };

export type RequestOf<K extends OperationId> = PathPart<K> & QueryPart<K> & BodyPart<K>;

type Success<K extends OperationId> = Operations[K]['success'];

/**
 * What a call resolves to: the parsed JSON body, `undefined` for a 204, and for a media
 * operation (getRecordingFile) the unread `Response`, so large audio can be streamed.
 */
export type ResultOf<K extends OperationId> = Success<K> extends { media: true }
  ? Response
  : Success<K>['status'] extends 204
    ? undefined
    : JsonContent<Documented<K>['responses'][Success<K>['status'] & keyof Documented<K>['responses']]>;

export type OperationMethod<K extends OperationId> = {} extends RequestOf<K>
  ? (request?: RequestOf<K>) => Promise<ResultOf<K>>
  : (request: RequestOf<K>) => Promise<ResultOf<K>>;

/** One method per operation of the contract table, named by operationId. */
export type MpcClient = { readonly [K in OperationId]: OperationMethod<K> };

/**
 * Fails to compile when the operation table and the generated document disagree on an
 * operation's method and path, since the client sends the table's and types the document's.
 */
type AssertTrue<T extends true> = T;
type DocumentedAt<K extends OperationId> = paths[Operations[K]['path']][Operations[K]['method']];
type TableMatchesDocument = AssertTrue<
  { [K in OperationId]: [DocumentedAt<K>] extends [Documented<K>] ? ([Documented<K>] extends [DocumentedAt<K>] ? true : false) : false }[OperationId]
>;
