export * from './wire.js';
export * from './errors.js';
export * from './ids.js';
export * from './mpc.js';
export * from './recordings.js';
export * from './callbacks.js';
export * from './operations.js';
export * from './media-streams.js';
