/** Injection tokens for values that are not classes. */
export const DATABASE = Symbol('DATABASE');
