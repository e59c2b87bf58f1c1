export * from './wire';
export * from './errors';
export * from './ids';
export * from './mpc';
export * from './recordings';
export * from './callbacks';
export * from './operations';
