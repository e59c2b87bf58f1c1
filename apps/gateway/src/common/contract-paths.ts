import { operations, type Operation, type OperationId } from '@mpc/contracts';

/** Express path of a contract operation: `{param}` becomes `:param`. */
export function expressPath(operation: Operation): string {
  return operation.path.replace(/\{(\w+)\}/g, ':$1');
}

const matchers = (Object.entries(operations) as [OperationId, Operation][]).map(([id, operation]) => {
  const pattern = operation.path
    .replace(/\/$/, '')
    .split(/\{\w+\}/)
    .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return { id, method: operation.method.toUpperCase(), regex: new RegExp(`^${pattern}/?$`) };
});

/** Methods the contract allows on a path, so an unmatched request can be told 405 rather than 404. */
export function methodsAllowedOn(path: string): string[] {
  return [...new Set(matchers.filter((matcher) => matcher.regex.test(path)).map((matcher) => matcher.method))];
}

/** Plivo's paths the gateway does not serve, and why: their 404 says so. */
const UNSERVED = [
  {
    regex: /^\/v1\/Account\/[^/]+\/MultiPartyCall\/[^/]+\/Member\/[^/]+\/Play\/?$/,
    why: 'play audio is not supported: this gateway records calls and sends no audio into them',
  },
];

/** Why the gateway does not serve a path of Plivo's API, when it is one it knows of. */
export function unservedReason(path: string): string | undefined {
  return UNSERVED.find(({ regex }) => regex.test(path))?.why;
}
