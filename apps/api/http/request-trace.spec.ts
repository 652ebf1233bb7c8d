import { traceFromHeaders } from './request-trace.js';

describe('traceFromHeaders', () => {
  it('keeps a plain incoming X-Request-Id', () => {
    expect(traceFromHeaders({ 'x-request-id': 'gate-7:abc.1_2-3' })).toBe('gate-7:abc.1_2-3');
  });

  it('takes the trace id of a W3C traceparent when there is no request id', () => {
    expect(traceFromHeaders({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
  });

  it.each([
    { 'x-request-id': 'has "quotes"' },
    { 'x-request-id': 'x'.repeat(129) },
    { 'x-request-id': '' },
    { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
    { traceparent: 'garbage' },
    {},
  ])('makes a fresh UUID otherwise (%p)', (headers) => {
    expect(traceFromHeaders(headers)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
