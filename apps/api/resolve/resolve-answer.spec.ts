import fc from 'fast-check';
import {
  batchAnswerJson,
  renderResolveAnswer,
  resolveAnswerJson,
  type ResolveError,
} from './resolve-answer.js';
import type { ResolveAnswer } from './resolve.service.js';
import { isValidIdentityName } from '../../../libs/domain/identity/identity-name.js';

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

  // Valid names (which the service answers) and anything else a caller may send: JSON's special characters,
  // `__proto__`, repeats.
  const aValidName = fc.stringMatching(/^[A-Za-z_][0-9A-Za-z_]{0,7}#[0-9A-Za-z_=+-]{1,128}$/);
  const aName = fc.oneof(
    aValidName,
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'RFID#"quoted"', 'RFID#back\\slash', 'RFID#é\u2028', '12'),
  );

  /** As the service answers: every valid name (some with no twin), no other. */
  function answersFor(names: readonly string[], twins: ReadonlyArray<string[]>): Map<string, ResolveAnswer> {
    const answers = new Map<string, ResolveAnswer>();
    names.forEach((name, i) => {
      if (isValidIdentityName(name)) answers.set(name, { details: false, twins: twins[i] });
    });
    return answers;
  }

  it('gives the same JSON as the results object serialised generically', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(aName, fc.array(fc.uuid(), { maxLength: 3 })), { maxLength: 20 }),
        (entries) => {
          const names = entries.map(([name]) => name);
          const answers = answersFor(
            names,
            entries.map(([, twins]) => twins),
          );
          const text = batchAnswerJson(names, answers, errorOf);
          expect(JSON.parse(text)).toEqual(reference(names, answers));
        },
      ),
    );
  });

  it('gives the same JSON when every name is valid and distinct (written without escaping)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(aValidName, { maxLength: 30 }),
        fc.array(fc.uuid(), { maxLength: 3 }),
        (names, twins) => {
          const answers = answersFor(
            names,
            names.map(() => twins),
          );
          const text = batchAnswerJson(names, answers, errorOf);
          expect(JSON.parse(text)).toEqual(reference(names, answers));
          expect(Object.keys((JSON.parse(text) as { results: object }).results)).toEqual(names);
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
