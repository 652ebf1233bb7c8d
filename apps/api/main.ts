import { loadConfigOrExit } from '../../libs/config/index.js';
import { exitOnStartupFailure, installProcessLogger } from '../../libs/observability/startup.js';
import { prepareDatabase } from '../../scripts/prepare-database.js';
import { createApiApp } from './api-app.js';
import { logDestination } from './http/request-log.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // The same buffered stream as the request lines, so that start-up, Nest and request lines stay in order.
  const { pino, nest } = installProcessLogger('api', config, logDestination());
  try {
    await prepareDatabase(config, nest);
    const app = await createApiApp(config);
    app.enableShutdownHooks();
    await app.listen({ port: config.PORT, host: config.HOST });
    nest.log(`listening on ${config.HOST}:${config.PORT}`, 'api');
  } catch (e) {
    exitOnStartupFailure(pino, 'api', e);
  }
}

void main();
