const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** `YYYY-MM-DD HH:mm:ss+00:00`, the timestamp format of Plivo's objects and callbacks (UTC). */
export function plivoTimestamp(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}+00:00`
  );
}

/** `YYYY-MM-DD HH:mm:ss.uuuuuu+00:00`, as the Recording object's add_time. */
export function plivoTimestampMicros(date: Date): string {
  return plivoTimestamp(date).replace('+00:00', `.${pad(date.getUTCMilliseconds() * 1000, 6)}+00:00`);
}

/** Milliseconds as Plivo writes them on Recording objects: a string with five decimals. */
export function plivoMs(ms: number): string {
  return ms.toFixed(5);
}

/** Reads a list-filter time (`YYYY-MM-DD HH:MM[:ss[.uuuuuu]]`, UTC). */
export function parseFilterTime(value: string): Date {
  return new Date(`${value.replace(' ', 'T')}Z`);
}
