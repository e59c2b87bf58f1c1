// Drives the Mixer as the gateway's call engine does (8 kHz, a 100 ms jitter window, `earliest`
// half a window behind each arrival) with one timed sender whose clock drifts, for hours of
// audio in seconds, and prints per case what became of its frames.
//
//   pnpm --filter @mpc/media build && node packages/media/bench/clock-drift.mjs [ppm:minutes ...] [--mixer path/to/mixer.js]
//
// A positive ppm is a clock that runs fast (frames arrive ever earlier than their timestamps say),
// a negative one a clock that runs slow. Per case: frames late and refused as ahead, moves
// (`realigned`), the minute frames were first refused as ahead, how long after it came the last
// frame's audio ends, and the silence in the mix after its first second.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const mixerAt = args.indexOf('--mixer');
const mixerPath = mixerAt >= 0 ? pathToFileURL(resolve(args.splice(mixerAt, 2)[1])).href : '../dist/mixer.js';
const cases = args.length > 0 ? args : ['0:60', '100:480', '200:240', '500:120', '2000:60', '-50:240'];
const { Mixer } = await import(mixerPath);

function run(ppm, minutes) {
  const mixer = new Mixer({ sampleRate: 8000 });
  const at = (ms) => Math.max(0, Math.round(ms * 8));
  mixer.addSource('a', { sampleRate: 8000, joinAt: 0 });
  const frame = new Int16Array(160).fill(1000);
  const arrival = (k) => k * 20 * (1 - ppm / 1e6) + 5;
  let heardUntil = 0;
  let silent = 0;
  let firstAheadMinute = null;
  const mixTo = (until) => {
    const from = mixer.cursor;
    const out = mixer.mixUntil(until);
    for (let i = 0; i < out.length; i++) {
      if (out[i] !== 0) heardUntil = from + i + 1;
      else if (from + i >= 8000) silent++;
    }
  };
  const frames = minutes * 3000;
  for (let k = 0; k < frames; k++) {
    const now = arrival(k);
    mixTo(at(now - 100));
    if (mixer.push('a', k * 20, frame, at(now - 50)) === 'ahead') firstAheadMinute ??= Math.round(now / 6000) / 10;
  }
  const silentMs = Math.round(silent / 8);
  mixTo(mixer.cursor + 32_000); // what was placed ahead
  const { late, ahead, realigned } = mixer.stats('a');
  return { ppm, minutes, late, ahead, realigned, firstAheadMinute, lastFrameHeardAfterArrivalMs: Math.round(heardUntil / 8 - arrival(frames - 1)), silentMs };
}

for (const spec of cases) {
  const [ppm, minutes] = spec.split(':').map(Number);
  console.log(JSON.stringify(run(ppm, minutes)));
}
