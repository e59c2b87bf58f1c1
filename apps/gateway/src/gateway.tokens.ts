/** Injection tokens for values that are not classes. */
export const DATABASE = Symbol('DATABASE');
export const RECORDING_STORAGE = Symbol('RECORDING_STORAGE');
