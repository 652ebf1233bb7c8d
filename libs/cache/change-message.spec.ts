import { parseChangeMessage } from './change-message.js';

describe('parseChangeMessage', () => {
  it('reads kind, send time and keys', () => {
    expect(parseChangeMessage('i|1700000000123|RFID#a,RFID#b')).toEqual({
      kind: 'i',
      sentMs: 1700000000123,
      keys: ['RFID#a', 'RFID#b'],
    });
  });
  it('reads a flush', () => {
    expect(parseChangeMessage('t|5|*')).toEqual({ kind: 't', sentMs: 5, keys: 'all' });
  });
  it('ignores what it does not understand', () => {
    expect(parseChangeMessage('x|5|a')).toBeUndefined();
    expect(parseChangeMessage('garbage')).toBeUndefined();
  });
});
