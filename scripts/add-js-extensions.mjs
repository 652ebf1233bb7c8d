// One-off codemod kept for contributors: relative imports in Node ESM need explicit .js extensions.
import { readFileSync, writeFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
const roots = process.argv.slice(2);
function walk(d) { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) { if (f !== 'node_modules' && f !== 'dist') walk(p); } else if (p.endsWith('.ts')) fix(p); } }
function fix(file) {
  const src = readFileSync(file, 'utf8');
  const out = src.replace(/(from\s+|import\s*\(\s*|import\s+)(['"])(\.{1,2}\/[^'"]*?)\2/g, (m, kw, q, spec) => {
    if (/\.(js|json|mjs|cjs)$/.test(spec)) return m;
    const base = resolve(dirname(file), spec);
    if (existsSync(base + '.ts')) return `${kw}${q}${spec}.js${q}`;
    if (existsSync(join(base, 'index.ts'))) return `${kw}${q}${spec}/index.js${q}`;
    return m;
  });
  if (out !== src) writeFileSync(file, out);
}
for (const r of roots) walk(r);
