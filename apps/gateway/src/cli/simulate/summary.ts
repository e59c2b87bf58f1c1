import { relative } from 'node:path';
import type { ReceivedCallback } from './callback-receiver.js';
import type { SimulationResult } from './run.js';

/** The report printed on stdout once the call is over. */
export function formatSummary(result: SimulationResult, cwd: string): string {
  const { recording, file } = result;
  const durationMs = recording.recording_duration_ms === null ? null : Number(recording.recording_duration_ms);
  // Seconds as shown, so that the figures printed add up.
  const shown = (seconds: number) => Math.round(seconds * 100) / 100;
  const [paused, expected] = [shown(result.pausedSeconds), shown(result.expectedRecordedSeconds)];
  const duration =
    durationMs === null
      ? 'not reported'
      : `${shown(durationMs / 1000).toFixed(2)} s (expected ${expected.toFixed(2)} s: ` +
        `${(expected + paused).toFixed(2)} s from the start request to the stop's, less ${paused.toFixed(2)} s paused; ` +
        `off by ${Math.abs(shown(durationMs / 1000) - expected).toFixed(2)} s)`;
  const shownPath = relative(cwd, file.path).startsWith('..') ? file.path : relative(cwd, file.path) || file.path;

  const rows: [string, string][] = [
    ['MPC', `${result.mpcName} (uuid ${result.mpcUuid})`],
    ['participants', String(result.participants.length)],
    ...result.participants.map(
      ({ role, memberId, callUuid, source }, i): [string, string] => [`  ${i + 1}`, `${role.padEnd(8)} member ${memberId.padEnd(6)} call ${callUuid}  ${source}`],
    ),
    ['recording', `${recording.recording_id} (${recording.recording_status}${recording.failure_reason ? `: ${recording.failure_reason}` : ''})`],
    ['format', recording.recording_format],
    ['sample rate', recording.sample_rate === null ? 'not reported' : `${recording.sample_rate} Hz`],
    ['duration', duration],
    ['file', `${shownPath} (${file.bytes.toLocaleString('en-US')} bytes, ready ${(file.waitedMs / 1000).toFixed(1)} s after the stop)`],
    ['callbacks', result.callbacksRefused ? `not requested: the gateway refused the local receiver (${result.callbacksRefused})` : formatCallbacks(result.callbacks)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}`).join('\n');
}

export function formatCallbacks(callbacks: readonly ReceivedCallback[]): string {
  if (callbacks.length === 0) return 'none received (not sent by this gateway version, or it cannot reach 127.0.0.1)';
  const events = callbacks.map(({ event }) => event).join(', ');
  const signed = callbacks.filter(({ signatureValid }) => signatureValid !== null);
  const bad = signed.filter(({ signatureValid }) => !signatureValid).length;
  const signatures =
    signed.length === 0 ? 'unsigned' : bad > 0 ? `${bad} of ${signed.length} signatures INVALID` : `signatures valid`;
  return `${callbacks.length} received: ${events} (${signatures})`;
}
