import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RawServerDefault } from 'fastify';

/**
 * docs/http.md "Requests": the official clients send `Content-Type: application/json`
 * on every call, also on DELETE and on bodiless POSTs, with `Content-Length: 0`. An empty body is an absent body,
 * whatever its Content-Type, on every route (the lean Fastify routes too) and before authentication.
 *
 * Two places make that so: an onRequest hook drops the Content-Type of a request that declares no bytes (Fastify
 * then skips parsing, whatever the media type, instead of answering 415 or `invalid_json`), and the JSON parser
 * answers `undefined` for a chunked body that turns out empty. Handlers then see `undefined`, and `parseInput`
 * tells a required body that is missing (`missing_body`) from a bad one.
 */
export function treatEmptyBodiesAsAbsent(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, _reply, done) => {
    const headers = request.headers;
    if (
      headers['content-type'] !== undefined &&
      headers['transfer-encoding'] === undefined &&
      headers['content-length'] === '0'
    ) {
      delete headers['content-type'];
    }
    done();
  });
  // Fastify's own JSON parser (prototype poisoning refused) for everything that is not empty.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (request, body, done) => {
    const text = body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
}
