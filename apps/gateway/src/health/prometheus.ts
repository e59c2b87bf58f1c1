import type { MediaPlaneStats } from '../media-ingress/in-process-media-plane.js';

type Sample = { labels?: Record<string, string>; value: number };
type Metric = { name: string; type: 'gauge' | 'counter'; help: string; samples: Sample[] };

const one = (value: number): Sample[] => [{ value }];

function render({ name, type, help, samples }: Metric): string {
  const lines = samples.map(({ labels, value }) => {
    const labelText = labels ? `{${Object.entries(labels).map(([key, label]) => `${key}="${label}"`).join(',')}}` : '';
    return `${name}${labelText} ${value}`;
  });
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines].join('\n');
}

/**
 * The figures of /health/metrics in Prometheus's text format: the live media plane (summed over
 * media shards), the counts of the streams that ended, and the process's memory.
 */
export function prometheusText(stats: MediaPlaneStats, memory: NodeJS.MemoryUsage): string {
  const streams = stats.streams;
  const metrics: Metric[] = [
    { name: 'mpc_calls', type: 'gauge', help: 'Multiparty calls being mixed.', samples: one(stats.calls) },
    { name: 'mpc_streams', type: 'gauge', help: 'Media streams in the mix.', samples: one(stats.sources) },
    { name: 'mpc_recordings', type: 'gauge', help: 'Recording files being made.', samples: one(stats.recordings) },
    { name: 'mpc_late_frames_total', type: 'counter', help: 'Audio frames that came too late for their place, counted as they come.', samples: one(stats.late_frames) },
    { name: 'mpc_encoder_lag_seconds', type: 'gauge', help: 'How far behind the audio the encoder threads are.', samples: one(stats.encoder_lag_ms / 1000) },
    {
      name: 'mpc_tick_lag_seconds',
      type: 'gauge',
      help: 'How late the mixing tick ran, over its recent ticks, by quantile.',
      samples: [
        { labels: { quantile: '0.5' }, value: stats.tick_lag_ms.p50 / 1000 },
        { labels: { quantile: '0.99' }, value: stats.tick_lag_ms.p99 / 1000 },
        { labels: { quantile: '1' }, value: stats.tick_lag_ms.max / 1000 },
      ],
    },
    { name: 'mpc_streams_ended_total', type: 'counter', help: 'Media streams that joined and have ended.', samples: one(streams.ended) },
    {
      name: 'mpc_stream_messages_total',
      type: 'counter',
      help: 'Messages of the streams that ended, by whether they could be read.',
      samples: [
        { labels: { result: 'read' }, value: streams.messages - streams.malformed },
        { labels: { result: 'malformed' }, value: streams.malformed },
      ],
    },
    {
      name: 'mpc_stream_frames_total',
      type: 'counter',
      help: 'Audio frames of the streams that ended, by what became of them.',
      samples: (['placed', 'shifted', 'clipped', 'late', 'ahead'] as const).map((result) => ({ labels: { result }, value: streams[result] })),
    },
    { name: 'mpc_stream_realigned_total', type: 'counter', help: 'Times a stream was moved after its sender\'s clock.', samples: one(streams.realigned) },
    { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory of the gateway\'s own process.', samples: one(memory.rss) },
    { name: 'nodejs_heap_used_bytes', type: 'gauge', help: 'V8 heap in use in the gateway\'s own process.', samples: one(memory.heapUsed) },
  ];
  return `${metrics.map(render).join('\n')}\n`;
}
