import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOperatorKey } from '../../../libs/access/operator-key.js';
import { forbidden, RateLimitedError, unauthorized } from '../../../libs/domain/errors.js';
import { sendError } from '../http/send-error.js';
import { cookieValue, DashboardSessions, SESSION_COOKIE, sessionCookie } from './dashboard-session.js';

export const QUEUE_DASHBOARD_PATH = '/queues';
export const QUEUE_LOGIN_PATH = `${QUEUE_DASHBOARD_PATH}/login`;
const FORM_TYPE = 'application/x-www-form-urlencoded';

export interface DashboardGateOptions {
  /** TWINDEX_OPERATOR_KEY; unset turns the dashboard off (403), like `POST /accounts`. */
  operatorKey: string | undefined;
  logger: LoggerService;
  /** Called with the request of every failed key presentation; throws RateLimitedError once over budget. */
  onFailure?: (request: FastifyRequest) => void | Promise<void>;
  now?: () => number;
}

/**
 * docs/operations.md: the queues are deployment-wide (every account's jobs), so the dashboard is the operator's.
 * Registers, under `/queues`, the login form and a gate on every other path of the prefix (static files and unknown
 * paths included), then the dashboard itself (`ui`) inside the gated scope. No account secret of any role is
 * accepted. The gate is registered even without `ui`, so it is tested over HTTP where Bull Board cannot be loaded.
 */
export async function registerQueueDashboard(
  fastify: FastifyInstance,
  options: DashboardGateOptions,
  ui?: (scope: FastifyInstance) => Promise<void>,
): Promise<void> {
  const now = options.now ?? Date.now;
  const sessions = options.operatorKey ? new DashboardSessions(options.operatorKey) : undefined;

  await fastify.register(
    async (scope) => {
      // Browsers post the login form urlencoded; parsed here only, and small.
      if (!scope.hasContentTypeParser(FORM_TYPE)) {
        scope.addContentTypeParser(FORM_TYPE, { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) =>
          done(null, Object.fromEntries(new URLSearchParams(String(body)))),
        );
      }

      scope.get('/login', async (_request, reply) => sendPage(reply, 200, loginPage()));

      scope.post('/login', { config: { ownMediaTypes: true } }, async (request, reply) => {
        if (!sessions)
          return sendPage(reply, 403, loginPage('The dashboard is disabled: no operator key is configured.'));
        const key = formField(request.body, 'key');
        if (key === undefined || !isOperatorKey(key, options.operatorKey)) {
          try {
            await options.onFailure?.(request);
          } catch (err) {
            if (!(err instanceof RateLimitedError)) throw err;
            void reply.header('retry-after', String(err.retryAfterSeconds));
            return sendPage(reply, 429, loginPage('Too many failed attempts: try again later.'));
          }
          return sendPage(reply, 401, loginPage('That is not the operator key.'));
        }
        const { token, maxAgeSeconds } = sessions.issue(now());
        return reply
          .header('set-cookie', sessionCookie(token, maxAgeSeconds, servedOverTls(request)))
          .header('cache-control', 'no-store')
          .redirect(`${QUEUE_DASHBOARD_PATH}/`, 303);
      });

      scope.addHook('onRequest', async (request, reply) => {
        if (request.routeOptions.url === QUEUE_LOGIN_PATH) return;
        try {
          if (!sessions) throw forbidden('The queue dashboard is disabled: TWINDEX_OPERATOR_KEY is not set');
          const header = request.headers.authorization;
          if (header !== undefined) {
            if (isOperatorKey(header, options.operatorKey)) return;
            await options.onFailure?.(request);
            throw unauthorized('The queue dashboard takes the operator key, not an account secret');
          }
          if (sessions.verify(cookieValue(request.headers.cookie, SESSION_COOKIE), now())) return;
          // A person without a session is sent to the form; scripts get the API's 401.
          if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
            return reply.redirect(QUEUE_LOGIN_PATH, 303);
          }
          throw unauthorized(
            'The queue dashboard takes the operator key (Bearer) or a session from /queues/login',
          );
        } catch (err) {
          sendError(request, reply, err, options.logger);
          return reply;
        }
      });

      // Unknown paths under the prefix pass the gate too, so the prefix reveals nothing to strangers.
      scope.setNotFoundHandler((request, reply) => {
        sendError(
          request,
          reply,
          Object.assign(new Error('No such endpoint'), { statusCode: 404 }),
          options.logger,
        );
      });

      if (ui) await ui(scope);
    },
    { prefix: QUEUE_DASHBOARD_PATH },
  );
}

function formField(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 && value.length <= 1024 ? value : undefined;
}

/** TLS at this process, or at a proxy in front that says so: only ever makes the cookie stricter. */
function servedOverTls(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .header('x-frame-options', 'DENY')
    .send(html);
}

function loginPage(error?: string): string {
  const message = error ? `<p role="alert" class="error">${error}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Twindex queues: sign in</title>
<style>body{font-family:sans-serif;max-width:28rem;margin:4rem auto}input,button{font-size:1rem;padding:.4rem}
.error{color:#a00}</style></head>
<body><h1>Twindex queue dashboard</h1>
<p>The queues hold every account's jobs: sign in with the deployment's operator key (TWINDEX_OPERATOR_KEY).</p>
${message}<form method="post" action="${QUEUE_LOGIN_PATH}">
<label>Operator key <input type="password" name="key" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>
`;
}
