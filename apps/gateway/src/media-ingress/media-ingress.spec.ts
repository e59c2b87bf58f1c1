import { describe, expect, it } from 'vitest';
import { closeReason } from './media-ingress.js';

describe('closeReason', () => {
  it('keeps a reason that fits a close frame, and cuts a longer one at a character within its 123 bytes', () => {
    expect(closeReason('stream stopped')).toBe('stream stopped');
    expect(closeReason('a'.repeat(123))).toBe('a'.repeat(123));
    expect(closeReason('a'.repeat(130))).toBe('a'.repeat(123));
    // 41 three-byte characters: 123 bytes fit; one more does not, and is not cut through.
    expect(closeReason('€'.repeat(41))).toBe('€'.repeat(41));
    expect(closeReason(`x${'€'.repeat(41)}`)).toBe(`x${'€'.repeat(40)}`);
    expect(closeReason(`MPC ${'😀'.repeat(40)} has ended`)).toBe(`MPC ${'😀'.repeat(29)}`);
  });
});
