/**
 * The one line each process logs at `info` once it serves, so that an operator reading `npm start` sees where things
 * are without reading the framework's start-up (module and route mapping lines are at `debug`). `npm start`
 * (scripts/start-all.ts) reads both processes' lines and prints the combined one.
 */
export const READY_PREFIX = 'ready: ';

export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function apiReadyLine(host: string, port: number): string {
  const url = httpUrl(host, port);
  return `${READY_PREFIX}API on ${url}, docs on ${url}/docs`;
}

export function workerReadyLine(host: string, metricsPort: number): string {
  return `${READY_PREFIX}worker taking jobs, metrics on ${httpUrl(host, metricsPort)}/metrics`;
}

/** Both processes' ready lines as one: `ready: API on …, docs on …/docs, worker metrics on …/metrics`. */
export function combinedReadyLine(api: string, worker: string): string {
  const metrics = /metrics on (\S+)$/.exec(worker)?.[1];
  return metrics ? `${api}, worker metrics on ${metrics}` : `${api}; ${worker.slice(READY_PREFIX.length)}`;
}

/**
 * Nest's own start-up narration (one line per module, per controller and per route: 96 of 136 lines of an API
 * start) is logged at `debug`; what our code logs keeps its level.
 */
export const FRAMEWORK_START_UP_CONTEXTS: ReadonlySet<string> = new Set([
  'NestFactory',
  'NestApplication',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
]);
