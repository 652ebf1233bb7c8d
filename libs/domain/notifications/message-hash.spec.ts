import { canonicalJson, hashKey, messageHash } from './message-hash.js';

/** A message and its hash as a Python receiver computes them (hashlib.blake2b, json.dumps sort_keys, no ASCII escaping). */
const MESSAGE = {
  type: 'Notification',
  trigger: 'identity.updated',
  message: '6f1c2a9e-0000-4000-8000-000000000001',
  twin: '6f1c2a9e-0000-4000-8000-000000000002',
  event: {
    'RFID#bé14': {
      new_value: { visibility: null, validity_ts: 1900000000 },
      old_value: { visibility: null, validity_ts: null },
      changed_ts: 1765000000.123,
    },
  },
  sent_ts: 1765000000.25,
  sequence: 1042,
  subscription: { topic: 'gates', account: '6f1c2a9e-0000-4000-8000-000000000003', validity_ts: 1765600000 },
};
const PYTHON_TEXT =
  '{"event":{"RFID#bé14":{"changed_ts":1765000000.123,"new_value":{"validity_ts":1900000000,"visibility":null},"old_value":{"validity_ts":null,"visibility":null}}},"message":"6f1c2a9e-0000-4000-8000-000000000001","sent_ts":1765000000.25,"sequence":1042,"subscription":{"account":"6f1c2a9e-0000-4000-8000-000000000003","topic":"gates","validity_ts":1765600000},"trigger":"identity.updated","twin":"6f1c2a9e-0000-4000-8000-000000000002","type":"Notification"}';
const PYTHON_HASH = 'eca03b09d81619691200bddda9708b54d11899ea22ba67dc4c680e37b33fda83';
const KEY = hashKey('AAAAAAAAAAAAAAAA', 'server-secret-0123456789abcdefXY');

describe('message hash', () => {
  it('serialises like json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)', () => {
    expect(canonicalJson(MESSAGE)).toBe(PYTHON_TEXT);
  });

  it('is the keyed BLAKE2b-256 a Python receiver computes', () => {
    expect(messageHash(MESSAGE, KEY)).toBe(PYTHON_HASH);
  });

  it('ignores the hash attribute itself, and changes with any other attribute or the key', () => {
    expect(messageHash({ ...MESSAGE, hash: 'x' }, KEY)).toBe(PYTHON_HASH);
    expect(messageHash({ ...MESSAGE, sequence: 1043 }, KEY)).not.toBe(PYTHON_HASH);
    expect(messageHash(MESSAGE, hashKey('AAAAAAAAAAAAAAAB', 'server-secret-0123456789abcdefXY'))).not.toBe(
      PYTHON_HASH,
    );
  });
});
