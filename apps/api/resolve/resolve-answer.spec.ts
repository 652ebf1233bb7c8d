import fc from 'fast-check';
import {
  batchAnswerJson,
  renderResolveAnswer,
  resolveAnswerJson,
  type ResolveError,
} from './resolve-answer.js';
import type { ResolveAnswer } from './resolve.service.js';

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

describe('batchAnswerJson', () => {
  const errorOf = (name: string): ResolveError => ({
    error: { subcode: 'invalid_identity', description: `bad ${name}` },
  });

  /** The reference: the results object built key by key (null prototype), then serialised generically. */
  function reference(names: readonly string[], answers: ReadonlyMap<string, ResolveAnswer>): unknown {
    const results = Object.create(null) as Record<string, unknown>;
    for (const name of names) {
      const answer = answers.get(name);
      results[name] = answer !== undefined ? renderResolveAnswer(answer) : errorOf(name);
    }
    return JSON.parse(JSON.stringify({ results }));
  }

  // Names include JSON's special characters, `__proto__` and repeats; some have an answer, the rest an error.
  const aName = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'RFID#"quoted"', 'RFID#back\\slash', 'RFID#é\u2028', '12'),
  );

  it('gives the same JSON as the results object serialised generically', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(aName, fc.option(fc.array(fc.uuid(), { maxLength: 3 }))), { maxLength: 20 }),
        (entries) => {
          const names = entries.map(([name]) => name);
          const answers = new Map<string, ResolveAnswer>();
          for (const [name, twins] of entries) {
            if (twins !== null && !answers.has(name)) answers.set(name, { details: false, twins });
          }
          const text = batchAnswerJson(names, answers, errorOf);
          expect(JSON.parse(text)).toEqual(reference(names, answers));
        },
      ),
    );
  });

  it('writes a repeated name once, where it first came', () => {
    const answers = new Map<string, ResolveAnswer>([['A#1', { details: false, twins: [] }]]);
    expect(batchAnswerJson(['A#1', 'bad', 'A#1'], answers, errorOf)).toBe(
      '{"results":{"A#1":{"twins":[]},"bad":{"error":{"subcode":"invalid_identity","description":"bad bad"}}}}',
    );
  });
});
