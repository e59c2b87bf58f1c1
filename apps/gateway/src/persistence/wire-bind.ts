import { protocol } from '@electric-sql/pglite';

/**
 * A Bind message of the unnamed portal to a prepared statement, every parameter and result column
 * in text format: the bytes PGlite's serializer writes, in one buffer sized up front. The
 * serializer grows and copies buffers as it goes: on start and stop it cost about 80 µs a cycle,
 * more than reading their results. A value that is not text (a buffer, sent in binary) goes to it
 * instead.
 */
export function bindText(statement: string, values: readonly unknown[]): Uint8Array {
  if (!values.every((value) => value === null || typeof value === 'string')) return protocol.serialize.bind({ statement, values: values as never[] });
  const texts = values as (string | null)[];
  const name = Buffer.byteLength(statement);
  let length = 4 + 1 + (name + 1) + 2 + 2 * texts.length + 2 + 2;
  for (const text of texts) length += 4 + (text === null ? 0 : Buffer.byteLength(text));
  const bytes = Buffer.allocUnsafe(1 + length);
  let at = bytes.writeUInt8(0x42 /* B */, 0);
  at = bytes.writeInt32BE(length, at);
  at = bytes.writeUInt8(0, at); // the unnamed portal
  at += bytes.write(statement, at);
  at = bytes.writeUInt8(0, at);
  at = bytes.writeInt16BE(texts.length, at); // a format code per parameter: 0, text
  bytes.fill(0, at, (at += 2 * texts.length));
  at = bytes.writeInt16BE(texts.length, at);
  for (const text of texts) {
    if (text === null) {
      at = bytes.writeInt32BE(-1, at);
      continue;
    }
    const size = bytes.write(text, at + 4);
    bytes.writeInt32BE(size, at);
    at += 4 + size;
  }
  bytes.writeInt16BE(0, at); // no result format codes: every column in text
  return bytes;
}
