/** core/stats is pure: it imports nothing environment-bound (no node:*, no Electron, no DOM-only modules). */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src-main/core/stats');

it('core/stats imports only relative core modules', () => {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    const imports = [...src.matchAll(/(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const i of imports) expect(i.startsWith('./') || i.startsWith('../'), `${f} imports ${i}`).toBe(true);
    expect(src).not.toMatch(/\bprocess\.|require\(/);
  }
});
