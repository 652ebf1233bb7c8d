import { spawn, ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm start`: the single-host setup, API and worker side by side. Each migrates under the same advisory lock,
 * so starting both at once is safe. If either exits, the other is stopped and the exit code is passed on.
 */
const here = dirname(fileURLToPath(import.meta.url));
const children: ChildProcess[] = [
  spawn(process.execPath, [join(here, '../apps/api/main.js')], { stdio: 'inherit' }),
  spawn(process.execPath, [join(here, '../apps/worker/main.js')], { stdio: 'inherit' }),
];
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
