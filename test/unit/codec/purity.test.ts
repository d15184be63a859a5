import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../../../src-main/core');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('core is pure', () => {
  it('imports nothing environment-bound (node:*, Node built-ins, electron, DOM globals)', () => {
    const bad: string[] = [];
    const builtins = /^(node:|fs$|path$|os$|child_process$|worker_threads$|zlib$|crypto$|electron|url$|buffer$)/;
    for (const f of walk(ROOT)) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (builtins.test(spec) || !spec.startsWith('.')) bad.push(`${f}: imports ${spec}`);
      }
      const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const g of ['document.', 'window.', 'process.', 'Buffer.', '__dirname', 'require(']) if (code.includes(g)) bad.push(`${f}: uses ${g}`);
    }
    expect(bad).toEqual([]);
  });
});
