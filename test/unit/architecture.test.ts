/**
 * Layering rules (the GUIDE's "layers import downward only"), checked on the source text:
 * core is pure (runs in worker threads, tests and later elsewhere); the renderer reaches the main
 * process only through the API contract.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|vue)$/.test(e.name)) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

describe('architecture', () => {
  it('core imports nothing environment-bound (no node:, electron, DOM globals) and nothing above it', () => {
    const bad: string[] = [];
    for (const f of sources(join(ROOT, 'src-main', 'core'))) {
      for (const spec of imports(f)) {
        const builtin = spec.startsWith('node:') || ['fs', 'path', 'os', 'zlib', 'crypto', 'worker_threads', 'child_process', 'electron'].includes(spec);
        const upward = spec.includes('/services/') || spec.includes('/doors/') || spec.includes('src-renderer');
        if (builtin || upward) bad.push(`${relative(ROOT, f)} imports ${spec}`);
      }
      const text = readFileSync(f, 'utf8');
      if (/\b(window|document|process|Buffer|require)\s*[.(]/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''))) bad.push(`${relative(ROOT, f)} uses a Node or DOM global`);
    }
    expect(bad).toEqual([]);
  });

  it('the renderer imports only the API contract from the main side', () => {
    const bad: string[] = [];
    for (const f of sources(join(ROOT, 'src-renderer', 'src'))) {
      for (const spec of imports(f)) {
        if (spec.startsWith('node:') || spec === 'electron' || spec.includes('src-main') || (spec.startsWith('@') && spec.startsWith('@core'))) bad.push(`${relative(ROOT, f)} imports ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('services never import a door', () => {
    const bad = sources(join(ROOT, 'src-main', 'services')).flatMap((f) => imports(f).filter((s) => s.includes('/doors/')).map((s) => `${relative(ROOT, f)} imports ${s}`));
    expect(bad).toEqual([]);
  });
});
