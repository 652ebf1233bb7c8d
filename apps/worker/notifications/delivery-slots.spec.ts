import fc from 'fast-check';
import { BoundedDeliverySlots } from './delivery-slots.js';

describe('bounded delivery slots', () => {
  it('never lets one account hold more than its share, nor all more than the total', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.constantFrom('a', 'b', 'c')), { maxLength: 200 }),
        (steps) => {
          const slots = new BoundedDeliverySlots(5, 2);
          const held = new Map<string, number>();
          for (const [acquire, account] of steps) {
            const mine = held.get(account) ?? 0;
            if (acquire) {
              const total = [...held.values()].reduce((x, y) => x + y, 0);
              const expected = total < 5 && mine < 2;
              expect(slots.tryAcquire(account)).toBe(expected);
              if (expected) held.set(account, mine + 1);
            } else if (mine > 0) {
              slots.release(account);
              held.set(account, mine - 1);
            }
          }
        },
      ),
    );
  });

  it('keeps slots for others while one account hangs', () => {
    const slots = new BoundedDeliverySlots(4, 2);
    expect([slots.tryAcquire('hanging'), slots.tryAcquire('hanging'), slots.tryAcquire('hanging')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(slots.tryAcquire('fast')).toBe(true);
    expect(slots.order([{ subscriber: 'hanging' }, { subscriber: 'idle' }])[0].subscriber).toBe('idle');
  });
});
