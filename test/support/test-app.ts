import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApiApp } from '../../apps/api/api-app.js';
import { type TwindexConfig } from '../../libs/config/index.js';
import { dropDatabase, ensureDatabase, runMigrations } from '../../libs/store/database-setup.js';
import { isolatedConfig, OPERATOR_KEY, removeRedisKeys } from './test-env.js';

export interface HttpResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface RequestOptions {
  secret?: string;
  headers?: Record<string, string>;
  /** Sent as JSON unless `raw` is set. */
  body?: unknown;
  raw?: string;
  query?: Record<string, string | string[] | undefined>;
}

/** A real API instance on a real port, with its own database; talk to it over HTTP like any client. */
export class TestApi {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly config: TwindexConfig,
    readonly baseUrl: string,
  ) {}

  static async start(
    config: TwindexConfig = isolatedConfig(),
    options: { migrate?: boolean; logFile?: string } = {},
  ): Promise<TestApi> {
    if (options.migrate !== false) {
      await ensureDatabase(config.DATABASE_URL);
      await runMigrations(config.DATABASE_URL);
    }
    const app = await createApiApp(config, {
      docsUi: false,
      queueDashboard: false,
      logFile: options.logFile,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return new TestApi(app, config, `http://127.0.0.1:${port}`);
  }

  /** Closes the app; drops the database and the Redis prefix's keys unless another instance still uses them. */
  async stop(options: { dropDatabase?: boolean } = {}): Promise<void> {
    await this.app.close();
    if (options.dropDatabase !== false) {
      await dropDatabase(this.config.DATABASE_URL);
      await removeRedisKeys(this.config);
    }
  }

  async request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<HttpResponse<T>> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
    }
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.secret) headers.authorization = options.secret;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    return { status: res.status, body: parseJsonOrUndefined(text) as T, headers: res.headers, text };
  }

  get = <T = any>(path: string, o?: RequestOptions) => this.request<T>('GET', path, o);
  post = <T = any>(path: string, o?: RequestOptions) => this.request<T>('POST', path, o);
  patch = <T = any>(path: string, o?: RequestOptions) => this.request<T>('PATCH', path, o);
  put = <T = any>(path: string, o?: RequestOptions) => this.request<T>('PUT', path, o);
  delete = <T = any>(path: string, o?: RequestOptions) => this.request<T>('DELETE', path, o);

  /** Creates an account through the operator endpoint; returns its admin's secret and ids. */
  async createAccount(name = 'acme', uuid?: string): Promise<TestAccount> {
    const res = await this.post('/accounts', {
      headers: { authorization: `Bearer ${OPERATOR_KEY}` },
      body: uuid ? { name, uuid } : { name },
    });
    if (res.status !== 201) throw new Error(`createAccount failed: ${res.status} ${res.text}`);
    return {
      account: res.body.account.uuid,
      user: res.body.user.uuid,
      role: res.body.role.uuid,
      secret: res.body.secret,
    };
  }
}

/** Non-JSON bodies (there should be none) come back as undefined and fail the shape assertions. */
function parseJsonOrUndefined(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export interface TestAccount {
  account: string;
  user: string;
  role: string;
  secret: string;
}

/** Every error body of docs/http.md has exactly these three string fields. */
export function expectErrorShape(res: HttpResponse, status: number, subcode?: string): void {
  expect({ status: res.status, keys: Object.keys(res.body ?? {}).sort() }).toEqual({
    status,
    keys: ['description', 'subcode', 'trace'],
  });
  expect(res.body.trace).toBe(res.headers.get('x-request-id'));
  if (subcode) expect(res.body.subcode).toBe(subcode);
}
