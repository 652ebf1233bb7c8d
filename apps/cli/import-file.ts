import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';

export interface ImportReport {
  uuid: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  progress: number;
  /** `imported`: good lines merged; `changed`: identities added or changed by them (0 for a re-import). */
  counts: { received: number; imported: number; changed: number; skipped: number };
  errors: Array<{ line: number; subcode: string; description: string }>;
}

export interface ImportFileOptions {
  url: string;
  secret: string;
  format: 'ndjson' | 'csv';
  /** Where progress bars go (drawn only on a terminal). */
  progress: NodeJS.WriteStream;
  pollMs?: number;
}

const CONTENT_TYPES = { ndjson: 'application/x-ndjson', csv: 'text/csv' } as const;

export class ImportFailed extends Error {}

function bar(label: string, out: NodeJS.WriteStream): SingleBar {
  return new SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} {unit}`, stream: out, hideCursor: true },
    Presets.shades_classic,
  );
}

/**
 * Streams a file to `POST /imports` (a progress bar over the bytes sent), then polls `GET /imports/{id}` until the
 * merge ends (a bar over its progress). Answers the final report; throws ImportFailed on an error answer.
 */
export async function importFile(file: string, o: ImportFileOptions): Promise<ImportReport> {
  const size = (await stat(file)).size;
  const upload = bar('upload', o.progress);
  upload.start(size, 0, { unit: 'bytes' });
  let sent = 0;
  const counted = createReadStream(file).pipe(
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        sent += chunk.length;
        upload.update(sent);
        done(null, chunk);
      },
    }),
  );
  let res: Response;
  try {
    res = await fetch(new URL('/imports', o.url), {
      method: 'POST',
      headers: {
        authorization: o.secret,
        'content-type': CONTENT_TYPES[o.format],
        'content-length': String(size),
      },
      body: Readable.toWeb(counted) as ReadableStream<Uint8Array>,
      duplex: 'half',
    });
  } catch (e) {
    upload.stop();
    throw new ImportFailed(`cannot reach ${o.url}: ${(e as Error).message}`);
  }
  upload.stop();
  const accepted = (await res.json().catch(() => ({}))) as {
    uuid?: string;
    subcode?: string;
    description?: string;
  };
  if (res.status !== 202 || !accepted.uuid)
    throw new ImportFailed(
      `POST /imports answered ${res.status}${accepted.subcode ? ` ${accepted.subcode}: ${accepted.description}` : ''}`,
    );
  const merge = bar('merge ', o.progress);
  merge.start(100, 0, { unit: '%' });
  try {
    for (;;) {
      const r = await fetch(new URL(`/imports/${accepted.uuid}`, o.url), {
        headers: { authorization: o.secret },
      });
      if (r.status !== 200) throw new ImportFailed(`GET /imports/${accepted.uuid} answered ${r.status}`);
      const report = (await r.json()) as ImportReport;
      merge.update(report.progress);
      if (report.status === 'completed' || report.status === 'failed') return report;
      await new Promise((done) => setTimeout(done, o.pollMs ?? 500));
    }
  } finally {
    merge.stop();
  }
}

/**
 * The closing lines: counts, then the first bad lines. "imported" is what the import wrote (identities added or
 * changed: the report's `changed`); good lines that found their identity already stored as given are counted apart,
 * so a re-import of the same file says `0 imported, N unchanged` instead of claiming N imported.
 */
export function describeReport(report: ImportReport, shown = 20): string {
  const { received, imported, changed, skipped } = report.counts;
  const unchanged = imported - changed;
  const lines = [
    `import ${report.uuid} ${report.status}: ${received} received, ${changed} imported, ${skipped} skipped` +
      (unchanged > 0 ? `, ${unchanged} unchanged (already stored as given)` : ''),
  ];
  for (const e of report.errors.slice(0, shown))
    lines.push(`  line ${e.line}: ${e.subcode}: ${e.description}`);
  if (skipped > shown && report.errors.length > 0)
    lines.push(`  … ${skipped - Math.min(shown, report.errors.length)} more (GET /imports/${report.uuid})`);
  return lines.join('\n') + '\n';
}
