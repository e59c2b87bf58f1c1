/** Injection tokens for values that are not classes. */
export const DATABASE = Symbol('DATABASE');
export const MEDIA_PLANE = Symbol('MEDIA_PLANE');
