import fc from 'fast-check';
import { renderResolveAnswer, resolveAnswerJson } from './resolve-answer.js';

describe('resolveAnswerJson', () => {
  it('writes a list of twin UUIDs exactly as the generic serialiser does', () => {
    fc.assert(
      fc.property(fc.array(fc.uuid(), { maxLength: 5 }), (twins) => {
        const answer = { details: false as const, twins };
        const text = resolveAnswerJson(answer);
        expect(text).toBe(JSON.stringify(renderResolveAnswer(answer)));
        expect(Buffer.byteLength(text)).toBe(text.length);
      }),
    );
  });
});
