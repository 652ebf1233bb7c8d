import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferedLogDestination } from './buffered-log-destination.js';

/** The folders this spec made, removed after it (pass or fail). */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): { fd: number; read: () => string; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'twindex-log-'));
  made.push(dir);
  const path = join(dir, 'out.log');
  const fd = openSync(path, 'a');
  return { fd, read: () => readFileSync(path, 'utf8'), close: () => closeSync(fd) };
}

async function until(check: () => boolean, deadlineMs = 5000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > deadlineMs) throw new Error('deadline passed');
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

describe('BufferedLogDestination', () => {
  it('holds lines until the batch fills, then writes them in order', async () => {
    const out = tempFile();
    const dest = new BufferedLogDestination({ fd: out.fd, batchChars: 30, flushMs: 60_000 });
    dest.write('one\n');
    dest.write('two\n');
    expect(out.read()).toBe('');
    for (let i = 0; i < 10; i++) dest.write(`line ${i}\n`);
    await until(() => out.read().includes('line 5'));
    dest.flushSync();
    expect(out.read()).toBe(
      ['one', 'two', ...Array.from({ length: 10 }, (_, i) => `line ${i}`)].join('\n') + '\n',
    );
    out.close();
  });

  it('writes a lone line within a second when traffic is low', async () => {
    const out = tempFile();
    const dest = new BufferedLogDestination({ fd: out.fd });
    dest.write('quiet\n');
    const took = await until(() => out.read() === 'quiet\n');
    expect(took).toBeLessThan(5000); // the flush timer is 200 ms; a busy machine gets generous slack
    out.close();
  });

  it('empties everything synchronously on flushSync (shutdown)', () => {
    const out = tempFile();
    const dest = new BufferedLogDestination({ fd: out.fd, batchChars: 10, flushMs: 60_000 });
    for (let i = 0; i < 100; i++) dest.write(`${i}\n`);
    dest.flushSync();
    expect(out.read().split('\n').filter(Boolean)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    out.close();
  });

  it('drops and counts lines beyond its queue limit instead of growing without bound', () => {
    const out = tempFile();
    const dest = new BufferedLogDestination({
      fd: out.fd,
      batchChars: 1000,
      maxQueuedChars: 10,
      flushMs: 60_000,
    });
    expect(dest.write('12345\n')).toBe(true);
    expect(dest.write('67890\n')).toBe(false);
    expect(dest.dropped).toBe(1);
    dest.flushSync();
    expect(out.read()).toBe('12345\n');
    out.close();
  });
});
