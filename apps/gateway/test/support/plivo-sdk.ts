import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

// The official SDK, unmodified. It always sends MPC and Recording calls to api.plivo.com, so the
// tests route its axios to the gateway (the in-process shim of the reference, option D).
const plivo = require('plivo') as typeof import('plivo');
const axios = require(require.resolve('axios', { paths: [dirname(require.resolve('plivo'))] }));
const httpAdapter = axios.getAdapter('http');

export function plivoClient(gatewayUrl: string, authId: string, authToken: string) {
  axios.defaults.adapter = (config: { url: string }) => {
    config.url = config.url.replace('https://api.plivo.com', gatewayUrl);
    return httpAdapter(config);
  };
  return new plivo.Client(authId, authToken);
}

export { plivo };
