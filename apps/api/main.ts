// First: V8 heap flags that must hold before the first request (see the module).
import './heap-flags.js';
import cluster from 'node:cluster';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { loadConfigOrExit } from '../../libs/config/index.js';
import { sharedLogDestination } from '../../libs/logging/buffered-log-destination.js';
import { apiReadyLine } from '../../libs/observability/ready-line.js';
import { exitOnStartupFailure, installProcessLogger } from '../../libs/observability/startup.js';
import { Db } from '../../libs/store/db.js';
import { prepareDatabase } from '../../libs/store/prepare-database.js';
import { createApiApp } from './api-app.js';
import { startDraining } from './health/draining.js';
import { processCount, runPrimary } from './api-processes.js';

const FIRST_ACCOUNT_HINT =
  'No account yet: create the first with `npx twindex account create <name>` (prints its admin secret once)';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // The same buffered stream as the request lines, so that start-up, Nest and request lines stay in order.
  const { pino, nest } = installProcessLogger('api', config, sharedLogDestination());
  try {
    // Several processes: the primary migrates once, then forks; each forked process serves (MIGRATIONS_RUN=false).
    const processes = processCount(config.API_PROCESSES);
    await prepareDatabase(config, nest);
    if (processes > 1 && cluster.isPrimary) {
      runPrimary(processes, nest);
      nest.log(`started ${processes} API processes on ${config.HOST}:${config.PORT}`, 'api');
      return;
    }
    const app = await createApiApp(config);
    stopOnSignals(app, config.API_DRAIN_MS, (line) => nest.log(line, 'api'));
    await app.listen({ port: config.PORT, host: config.HOST });
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    await hintFirstAccount(app.get(Db), (line) => nest.log(line, 'api'));
    nest.log(apiReadyLine(config.HOST, port), 'api');
  } catch (e) {
    exitOnStartupFailure(pino, 'api', e);
  }
}

/**
 * SIGTERM/SIGINT: say so and drain, then stop taking connections and let the requests in flight finish (Fastify's
 * close), run the modules' shutdown hooks, say so again and exit 0. (Nest's own signal hooks log nothing and re-raise
 * the signal.) Draining, on SIGTERM (what orchestrators send): /health/ready turns 503 at once and every response
 * closes its connection, while the process keeps serving for `drainMs` — the time load balancers need to take it
 * out of their lists — so that a rolling restart drops no request (docs/operations.md, "Many hosts"). SIGINT (Ctrl-C)
 * stops without the pause.
 */
function stopOnSignals(
  app: { close(): Promise<void>; getHttpServer(): Server },
  drainMs: number,
  log: (line: string) => void,
): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const began = performance.now();
    startDraining();
    // Keep-alive clients would otherwise keep reusing a connection to a host that is about to go away.
    app.getHttpServer().prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (!res.headersSent) res.setHeader('connection', 'close');
    });
    if (signal === 'SIGTERM' && drainMs > 0) {
      log(
        `${signal}: stopping; unready and draining for ${drainMs} ms, then finishing the requests in flight`,
      );
      await new Promise((r) => setTimeout(r, drainMs));
    } else {
      log(`${signal}: stopping, finishing the requests in flight`);
    }
    app.close().then(
      () => {
        log(`stopped in ${Math.round(performance.now() - began)} ms`);
        process.exit(0);
      },
      (e: unknown) => {
        log(`stop failed: ${(e as Error)?.message ?? String(e)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** A fresh installation has no account and (usually) no operator key: say how to get the first one. */
async function hintFirstAccount(db: Db, log: (line: string) => void): Promise<void> {
  const [row] = await db
    .query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM accounts) AS any')
    .catch(() => []);
  if (row && !row.any) log(FIRST_ACCOUNT_HINT);
}

void main();
