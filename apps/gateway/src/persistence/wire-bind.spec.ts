import { protocol } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { bindText } from './wire-bind.js';

describe('bindText', () => {
  it.each([
    ['no parameters', []],
    ['one value', ['a']],
    ['a null', [null]],
    ['empty, multi-byte and numeric text', ['', null, 'ü€😀', '0']],
    ['forty values, a third of them null', Array.from({ length: 40 }, (_, i) => (i % 3 ? `v${i}`.repeat(i) : null))],
  ])("writes the bytes PGlite's serializer writes: %s", (_name, values) => {
    expect(Buffer.from(bindText('s12', values))).toEqual(Buffer.from(protocol.serialize.bind({ statement: 's12', values })));
  });

  it('leaves a binary value to the serializer, which sends it in binary format', () => {
    const values = ['a', Buffer.from([0, 1, 2])];
    expect(Buffer.from(bindText('s1', values))).toEqual(Buffer.from(protocol.serialize.bind({ statement: 's1', values: values as never[] })));
  });
});
