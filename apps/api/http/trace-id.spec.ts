import fc from 'fast-check';
import { traceOf } from './trace-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('traceOf', () => {
  it('keeps a well-formed X-Request-Id', () => {
    expect(traceOf({ 'x-request-id': 'req-42.a:b_c' })).toBe('req-42.a:b_c');
  });

  it('takes the trace id of a W3C traceparent when there is no usable X-Request-Id', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceOf({ traceparent: tp })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceOf({ 'x-request-id': 'bad"id', traceparent: tp })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('refuses forged, oversized or malformed values and makes a new UUID', () => {
    for (const headers of [
      { 'x-request-id': 'a"},"level":60,"msg":"forged' },
      { 'x-request-id': 'line\nbreak' },
      { 'x-request-id': 'x'.repeat(129) },
      { 'x-request-id': '' },
      { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
      { traceparent: '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01' },
      { traceparent: 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      { traceparent: 'garbage' },
      {},
    ])
      expect(traceOf(headers)).toMatch(UUID);
  });

  it('makes a different trace for every request', () => {
    const traces = new Set(Array.from({ length: 10_000 }, () => traceOf({})));
    expect(traces.size).toBe(10_000);
  });

  it('never returns a trace that could break a JSON log line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 80 }), (requestId, traceparent) => {
        const trace = traceOf({ 'x-request-id': requestId, traceparent });
        expect(trace).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
        expect(JSON.stringify(trace)).toBe(`"${trace}"`);
      }),
    );
  });
});
