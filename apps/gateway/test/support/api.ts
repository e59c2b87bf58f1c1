import type { TestGateway } from './gateway.js';

/** Like apiOf, but answers only a successful call's body; anything else fails the test with the gateway's error. */
export function okApiOf(gateway: () => TestGateway) {
  const call = apiOf(gateway);
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const answer = await call(method, path, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
}

/** Calls the gateway's API as the test account; answers the status and the parsed body. */
export function apiOf(gateway: () => TestGateway) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${gateway().api}/${path}`, {
      method,
      headers: { authorization: gateway().auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}
