import { describe, expect, it } from 'vitest';
import type { MediaPlaneStats } from '../media-ingress/in-process-media-plane.js';
import { noStreamTotals } from '../media-ingress/media-ingress.js';
import { prometheusText } from './prometheus.js';

const stats: MediaPlaneStats = {
  calls: 2,
  sources: 5,
  recordings: 3,
  late_frames: 7,
  encoder_lag_ms: 12,
  tick_ms: 20,
  tick_lag_ms: { p50: 1, p99: 4, max: 9, samples: 100 },
  streams: { ...noStreamTotals(), ended: 4, messages: 1000, malformed: 2, placed: 990, late: 3, realigned: 1 },
};
const memory = { rss: 100_000_000, heapUsed: 40_000_000 } as NodeJS.MemoryUsage;

describe('prometheusText', () => {
  const text = prometheusText(stats, memory);
  const lines = text.trimEnd().split('\n');

  it('writes each metric as HELP, TYPE, then its samples, in the text format', () => {
    const sample = /^([a-z_]+)(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*\})? -?\d+(\.\d+)?(e[+-]?\d+)?$/;
    let declared: string | undefined;
    for (const line of lines) {
      const comment = /^# (HELP|TYPE) ([a-z_]+) (.+)$/.exec(line);
      if (comment) {
        if (comment[1] === 'HELP') declared = comment[2];
        else expect([comment[2], ['gauge', 'counter'].includes(comment[3]!)]).toEqual([declared, true]);
        continue;
      }
      const match = sample.exec(line);
      expect(match, line).not.toBeNull();
      expect(match![1]).toBe(declared);
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('gives the figures, in seconds where Prometheus wants them', () => {
    expect(lines).toEqual(
      expect.arrayContaining([
        'mpc_calls 2',
        'mpc_streams 5',
        'mpc_recordings 3',
        'mpc_late_frames_total 7',
        'mpc_encoder_lag_seconds 0.012',
        'mpc_tick_lag_seconds{quantile="0.99"} 0.004',
        'mpc_streams_ended_total 4',
        'mpc_stream_messages_total{result="read"} 998',
        'mpc_stream_messages_total{result="malformed"} 2',
        'mpc_stream_frames_total{result="placed"} 990',
        'mpc_stream_frames_total{result="late"} 3',
        'mpc_stream_realigned_total 1',
        'process_resident_memory_bytes 100000000',
      ]),
    );
  });
});
