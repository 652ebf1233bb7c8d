/**
 * Loaded into a server under bench with `node --import <this file>`: records the process's full-heap GC pauses
 * (PerformanceObserver 'gc' entries of kind major) and its event-loop delay (monitorEventLoopDelay), and writes them
 * to GC_PROBE_FILE four times a second. SIGUSR2 starts a new window (the bench sends it when a phase begins), so the
 * figures read at a phase's end are that phase's alone. Nothing of this runs in production.
 */
import { writeFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface GcProbeWindow {
  /** Durations (ms) of the full-heap (mark-compact) GCs since the window began. */
  majorMs: number[];
  /** Event-loop delay percentiles (ms) since the window began, sampled every 10 ms. */
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** Bumped by every SIGUSR2, so a reader knows the window it reads began after its signal. */
  window: number;
}

const file = process.env.GC_PROBE_FILE;
if (file) {
  let majorMs: number[] = [];
  let window = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorMs.push(e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  const write = () => {
    const w: GcProbeWindow = {
      majorMs,
      loopP50Ms: loop.percentile(50) / 1e6,
      loopP99Ms: loop.percentile(99) / 1e6,
      loopMaxMs: loop.max / 1e6,
      window,
    };
    writeFileSync(file, JSON.stringify(w));
  };
  process.on('SIGUSR2', () => {
    majorMs = [];
    loop.reset();
    window++;
    write();
  });
  setInterval(write, 250).unref();
}
