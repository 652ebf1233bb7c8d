import fc from 'fast-check';
import type { IdentityRow } from '../domain/model.js';
import {
  canPack,
  PackedRowView,
  packedOwnerAccount,
  packedTwin,
  packedValidityTs,
  packRow,
  unpackRow,
} from './packed-row.js';

const timestamp = fc.oneof(
  fc.integer({ min: 0, max: 4_000_000_000 }),
  fc.double({ min: 0, max: 4e9, noNaN: true, noDefaultInfinity: true }),
);

const plainRow = fc.record({
  name: fc.constant('RFID#x'),
  twin: fc.uuid(),
  owner: fc.oneof(fc.uuid(), fc.constantFrom('a', 'b')),
  visibility: fc.constant(null),
  validityTs: fc.option(timestamp, { nil: null }),
  twinCreatedTs: timestamp,
  grantee: fc.constant(null),
}) as fc.Arbitrary<IdentityRow>;

describe('packed rows', () => {
  it('unpack(pack(row)) is the row, and the accessors and the view agree with it', () => {
    const view = new PackedRowView();
    fc.assert(
      fc.property(plainRow, (row) => {
        expect(canPack(row)).toBe(true);
        const p = packRow(row);
        expect(unpackRow(row.name, p)).toEqual(row);
        expect(packedTwin(p)).toBe(row.twin);
        expect(packedOwnerAccount(p)).toBe(row.owner);
        expect(packedValidityTs(p)).toBe(row.validityTs);
        const seen = view.of(row.name, p);
        expect({
          name: seen.name,
          twin: seen.twin,
          owner: seen.owner,
          visibility: seen.visibility,
          validityTs: seen.validityTs,
          twinCreatedTs: seen.twinCreatedTs,
          grantee: seen.grantee,
        }).toEqual(row);
      }),
      { numRuns: 500 },
    );
  });

  it('reads owner numbers beyond one base-36 digit', () => {
    for (let i = 0; i < 2000; i++) {
      const owner = `owner-${i}`;
      const p = packRow({
        name: 'RFID#x',
        twin: '00000000-0000-4000-8000-000000000001',
        owner,
        visibility: null,
        validityTs: null,
        twinCreatedTs: 1,
        grantee: null,
      });
      expect(packedOwnerAccount(p)).toBe(owner);
    }
  });

  it('leaves rows with a rule or a grantee as objects', () => {
    const base = {
      name: 'RFID#x',
      twin: '00000000-0000-4000-8000-000000000001',
      owner: 'a',
      validityTs: null,
      twinCreatedTs: 1,
    };
    expect(canPack({ ...base, visibility: null, grantee: 'g' })).toBe(false);
    expect(canPack({ ...base, visibility: (() => true) as never, grantee: null })).toBe(false);
  });
});
