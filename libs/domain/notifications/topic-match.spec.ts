import fc from 'fast-check';
import { compileRule } from '../rules/index.js';
import type { TwinFacts } from '../model.js';
import { publishedBy, type PublishedChange, type TopicFilter } from './topic-match.js';
import { TRIGGERS, type Trigger } from './topic.js';

const TWIN = '0b6c7c4e-5d0e-4c55-9a43-0c1d5e7b9a10';
const FACTS: TwinFacts = {
  uuid: TWIN,
  owner: '7f0e4b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b',
  status: 'alive',
  description: { site: 'north' },
  createdTs: 0,
};

/** The reference: a topic publishes the identities its rule accepts, when its triggers name the change's trigger. */
function reference(
  triggers: readonly Trigger[],
  accepts: (identity: string | null) => boolean,
  change: PublishedChange,
): readonly string[] | null {
  if (!triggers.includes(change.trigger)) return null;
  if (change.identities.length === 0) return accepts(null) ? [] : null;
  const kept = change.identities.filter((n) => accepts(n));
  return kept.length ? kept : null;
}

const RULES: Array<[string | null, (identity: string | null) => boolean]> = [
  [null, () => true],
  ["identity =~ 'RFID#.*'", (i) => i !== null && i.startsWith('RFID#')],
  ["TWIN.site == 'north'", () => true],
  ["TWIN.site == 'south'", () => false],
  ['identity == null', (i) => i === null],
];

describe('topic matching', () => {
  it('agrees with the reference model', () => {
    fc.assert(
      fc.property(
        fc.subarray([...TRIGGERS], { minLength: 1 }),
        fc.constantFrom(...RULES),
        fc.constantFrom(...TRIGGERS),
        fc.uniqueArray(fc.constantFrom('RFID#1', 'RFID#2', 'GTIN#3', 'MAC#4'), { maxLength: 4 }),
        (triggers, [text, accepts], trigger, identities) => {
          const topic: TopicFilter = { topic: 't', triggers, rule: text === null ? null : compileRule(text) };
          const change = { trigger, twin: TWIN, identities };
          expect(publishedBy(topic, change, 1_765_000_000, FACTS)).toEqual(
            reference(triggers, accepts, change),
          );
        },
      ),
    );
  });

  it('publishes nothing for a trigger the topic does not list', () => {
    const topic: TopicFilter = { topic: 't', triggers: ['identity.created'], rule: null };
    expect(
      publishedBy(topic, { trigger: 'identity.deleted', twin: TWIN, identities: ['A#1'] }, 0, FACTS),
    ).toBeNull();
  });
});
