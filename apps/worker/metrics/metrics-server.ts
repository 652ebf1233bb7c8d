import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { CONFIG, type TwindexConfig } from '../../../libs/config/index.js';
import { WorkerMetrics } from './worker-metrics.js';

/** The probe paths the server answers without a token (docs/kubernetes.md "Probes"). */
const HEALTH_PATHS = new Set(['/health', '/health/live', '/health/ready']);

/**
 * GET /metrics of the worker on WORKER_METRICS_PORT (0: any free port, as tests use). The worker has no HTTP API,
 * so a bare node:http server is all it needs; its healthcheck (Docker) and Kubernetes probes use the same port.
 * `/health` and `/health/live` say the process answers; `/health/ready` waits until the queues' workers have
 * started (start-up, migrations included, is over).
 */
@Injectable()
export class WorkerMetricsServer implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('worker-metrics');
  private server: Server | undefined;
  private started = false;

  constructor(
    @Inject(CONFIG) private readonly config: TwindexConfig,
    private readonly metrics: WorkerMetrics,
  ) {}

  /** Listening before the queues start, so a port in use stops start-up (see main.ts) before any job is taken. */
  async onModuleInit(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || (path !== '/metrics' && !HEALTH_PATHS.has(path))) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"subcode":"not_found"}');
        return;
      }
      if (path === '/health/ready' && !this.started) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"starting"}');
        return;
      }
      if (HEALTH_PATHS.has(path)) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      if (!this.authorized(req.headers.authorization)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"subcode":"unauthorized"}');
        return;
      }
      this.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.WORKER_METRICS_PORT, this.config.HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    // At debug: the worker's ready line (main.ts) names the metrics address.
    this.logger.debug(`metrics on ${this.config.HOST}:${this.port}/metrics`);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  onApplicationBootstrap(): void {
    this.started = true;
  }

  async onApplicationShutdown(): Promise<void> {
    this.started = false;
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Same rule as the API's /metrics: public unless METRICS_TOKEN is set. */
  private authorized(header: string | undefined): boolean {
    const token = this.config.METRICS_TOKEN;
    return !token || (header ?? '').replace(/^Bearer\s+/i, '') === token;
  }
}
