import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { combinedReadyLine, READY_PREFIX } from '../libs/observability/ready-line.js';

/**
 * `npm start`: the single-host setup, API and worker side by side. Each migrates under the same advisory lock,
 * so starting both at once is safe. If either exits, the other is stopped and the exit code is passed on.
 * Their lines are passed through as they come; once both have logged their ready line, one more line says where
 * everything is (`ready: API on …, docs on …/docs, worker metrics on …/metrics`).
 */
const here = dirname(fileURLToPath(import.meta.url));
const ready: { api?: string; worker?: string } = {};

function run(which: 'api' | 'worker'): ChildProcess {
  const child = spawn(process.execPath, [join(here, `../apps/${which}/main.js`)], {
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    process.stdout.write(`${line}\n`);
    if (ready[which] === undefined && line.includes(`"msg":"${READY_PREFIX}`)) {
      ready[which] = (JSON.parse(line) as { msg: string }).msg;
      if (ready.api !== undefined && ready.worker !== undefined) {
        const msg = combinedReadyLine(ready.api, ready.worker);
        process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), name: 'twindex', msg })}\n`);
      }
    }
  });
  return child;
}

const children: ChildProcess[] = [run('api'), run('worker')];
let stopping = false;
function stopAll(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill(signal);
}
for (const c of children) {
  c.on('exit', (code) => {
    stopAll('SIGTERM');
    if (children.every((x) => x.exitCode !== null || x.signalCode !== null)) process.exit(code ?? 0);
  });
}
process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
