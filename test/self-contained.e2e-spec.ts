import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const SELF = 'test/self-contained.e2e-spec.ts';

/** Every file git tracks, as text (binary files and this file, which names the patterns, left out). */
function trackedTexts(): Array<{ path: string; text: string }> {
  const paths = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((p) => p !== '' && p !== SELF && existsSync(join(ROOT, p)));
  return paths
    .map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }))
    .filter(({ text }) => !text.includes('\0'));
}

function hits(
  pattern: RegExp,
  keep: (path: string, match: RegExpExecArray) => boolean = () => true,
): string[] {
  const found: string[] = [];
  for (const { path, text } of trackedTexts()) {
    text.split('\n').forEach((line, k) => {
      for (const match of line.matchAll(new RegExp(pattern.source, 'g'))) {
        if (keep(path, match)) found.push(`${path}:${k + 1}: ${line.trim()}`);
      }
    });
  }
  return found;
}

/**
 * A clone is all a user has: nothing in it may send the reader to a folder beside the repository. What the product
 * does is written in docs/ (docs/README.md lists the pages); the OpenAPI document at /docs gives the shapes.
 */
describe('the repository explains itself', () => {
  it('refers to no folder beside the repository (the old shared spec folder)', () => {
    expect(hits(/\.\.\/shared\b|\bshared\/spec\b/)).toEqual([]);
  });

  it('cites its own docs/ pages, never a spec file by its bare name', () => {
    // A citation like `semantics.md` or "(access.md)" named a file of the old spec folder. What may remain: a path
    // into docs/ that exists (`docs/access.md`), and links between the pages of docs/ themselves.
    const specNames =
      /(?<![\w/.-])(docs\/)?(api|semantics|rules|access|sync|notifications|deploy|operations)\.md\b/;
    const stray = hits(specNames, (path, match) => {
      const page = `docs/${match[2]}.md`;
      const linkInsideDocs = dirname(path) === 'docs';
      return !((match[1] !== undefined || linkInsideDocs) && existsSync(join(ROOT, page)));
    });
    expect(stray).toEqual([]);
  });

  it('names only files and folders that exist, wherever the docs and the README point into the tree', () => {
    // A path in backticks (`libs/store/db.ts`, `apps/api/http/`) is a promise to a reader that it is there; a move
    // that forgets the docs breaks it. Globs and elided paths (`*`, `…`, `<…>`) describe sets, not files.
    const pages = [
      'README.md',
      'bench/README.md',
      ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`),
    ];
    const missing: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(ROOT, page), 'utf8');
      for (const [, path] of text.matchAll(
        /`((?:apps|libs|test|bench|migrations|scripts|deploy|docs|bin)\/[^`\s]*)`/g,
      )) {
        if (/[*…<>{}]/.test(path)) continue;
        if (!existsSync(join(ROOT, path.replace(/[/.,:;]+$/, '')))) missing.push(`${page}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
