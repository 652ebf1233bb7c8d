/**
 * Loaded into a server under bench with `node --import <this file>`: records the process's full-heap GC pauses
 * (PerformanceObserver 'gc' entries of kind major) and its event-loop delay (monitorEventLoopDelay), and writes them
 * to GC_PROBE_FILE four times a second. SIGUSR2 starts a new window (the bench sends it when a phase begins), so the
 * figures read at a phase's end are that phase's alone. Nothing of this runs in production.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface GcProbeWindow {
  /** Durations (ms) of the full-heap (mark-compact) GCs since the window began. */
  majorMs: number[];
  /** Event-loop delay percentiles (ms, lateness beyond the 10 ms sampling period) since the window began. */
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** Bumped by every SIGUSR2, so a reader knows the window it reads began after its signal. */
  window: number;
}

const file = process.env.GC_PROBE_FILE;
/**
 * The histogram's timer period. Node records the whole interval between two of its ticks, not the lateness: an idle
 * loop reads 10 ms at p50 with a 10 ms resolution. The period is taken off every figure, so they read as delay.
 */
const RESOLUTION_MS = 10;
const delayMs = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
if (file) {
  let majorMs: number[] = [];
  let window = 0;
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
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
      loopP50Ms: delayMs(loop.percentile(50)),
      loopP99Ms: delayMs(loop.percentile(99)),
      loopMaxMs: delayMs(loop.max),
      window,
    };
    writeFileSync(file, JSON.stringify(w));
  };
  // GC_PROBE_PROFILE=1: a CPU profile per window, written as <GC_PROBE_FILE>.<window>.cpuprofile when the next begins.
  const session = process.env.GC_PROBE_PROFILE ? new Session() : undefined;
  session?.connect();
  const profile = () => {
    if (!session) return;
    const ended = window;
    session.post('Profiler.stop', (err, result) => {
      if (!err && ended > 0) writeFileSync(`${file}.${ended}.cpuprofile`, JSON.stringify(result.profile));
      session.post('Profiler.enable', () => session.post('Profiler.start'));
    });
  };
  process.on('SIGUSR2', () => {
    profile();
    majorMs = [];
    loop.reset();
    window++;
    write();
  });
  setInterval(write, 250).unref();
}
