import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Servers run pinned to core 0 and the load generator to core 1, so they do not fight over one core. */
export const SERVER_CPU = '0';
export const LOAD_CPU = '1';
const CLOCK_TICKS = 100;

export interface Server {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
  rssMiB(): number;
  /** CPU time (user + system) the process has used so far, in seconds: per-request cost that load elsewhere on the
   * machine does not distort the way it distorts req/s. */
  cpuSeconds(): number;
}

export async function startServer(
  script: string,
  port: number,
  env: Record<string, string>,
  nodeFlags: string[] = ['--max-old-space-size=2048'],
): Promise<Server> {
  const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, ...nodeFlags, script], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      await fetch(`${url}/health/live`);
      break;
    } catch {
      if (Date.now() - started > 60_000) throw new Error(`${script} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    process: child,
    rssMiB: () => {
      // taskset execs node, so the child pid is node's own.
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    cpuSeconds: () => {
      // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks; the command name may contain spaces.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * Starts a worker (it serves no bench-facing HTTP) and waits for its `ready: worker` log line. Only the start-up
 * lines are kept: a bench must not buffer thousands of job log lines.
 */
export async function startWorkerProcess(
  script: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeFlags, script], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    if (output.length < 100_000) output += d.toString();
  });
  const started = Date.now();
  while (!output.includes('ready: worker')) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${output}`);
    if (Date.now() - started > 60_000) throw new Error(`worker did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}
