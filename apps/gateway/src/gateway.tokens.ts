/** Injection tokens for values that are not classes. */
export const DATABASE = Symbol('DATABASE');
export const MEDIA_PLANE = Symbol('MEDIA_PLANE');
/** How long a download may take nothing before it is cut off, in ms. */
export const DOWNLOAD_IDLE_MS = Symbol('DOWNLOAD_IDLE_MS');
