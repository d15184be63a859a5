/**
 * Layering rules (the GUIDE's "layers import downward only"), one table checked on the source text:
 * core is pure (runs in worker threads, tests and later elsewhere); the API contract is shared with
 * the renderer and so stands alone; services never reach up to a door; the renderer reaches the
 * main process only through the API contract's types.
 *
 * Core's environment (no Node or DOM globals, only ES2023 plus TextEncoder/TextDecoder) is checked
 * by the compiler instead: `npm run typecheck` builds src-main/core alone with tsconfig.core.json.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

const LAYERS = {
  core: 'src-main/core',
  api: 'src-main/api',
  services: 'src-main/services',
  doors: 'src-main/doors',
  renderer: 'src-renderer/src',
} as const;
type Layer = keyof typeof LAYERS;
/** What an import reaches: a layer, a Node builtin, Electron, an npm package, or some other file. */
type Target = Layer | 'node' | 'electron' | 'package' | 'other';

interface Rule {
  layer: Layer;
  forbid: Target[];
  /** Forbidden targets that may still be imported with `import type` / `export type`. */
  typesOnly?: Target[];
}

const RULES: Rule[] = [
  { layer: 'core', forbid: ['node', 'electron', 'api', 'services', 'doors', 'renderer'] },
  { layer: 'api', forbid: ['node', 'electron', 'core', 'services', 'doors', 'renderer'] },
  { layer: 'services', forbid: ['doors', 'renderer'] },
  { layer: 'renderer', forbid: ['node', 'electron', 'core', 'api', 'services', 'doors'], typesOnly: ['api'] },
];

interface Import {
  spec: string;
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|vue)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Static imports and re-exports, side-effect imports, and dynamic `import('...')`. */
function imports(text: string): Import[] {
  const re =
    /\b(?:import|export)\s+(type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(re)].map((m) => ({ spec: (m[2] ?? m[3] ?? m[4])!, typeOnly: m[1] !== undefined }));
}

function target(file: string, spec: string): Target {
  let path: string | undefined;
  if (spec.startsWith('.')) path = relative(ROOT, resolve(dirname(file), spec)).split(sep).join('/');
  else if (spec.startsWith('@api/')) path = `${LAYERS.api}/${spec.slice(5)}`;
  else if (spec.startsWith('@core/')) path = `${LAYERS.core}/${spec.slice(6)}`;
  if (path !== undefined) {
    const layer = (Object.keys(LAYERS) as Layer[]).find((l) => path === LAYERS[l] || path.startsWith(`${LAYERS[l]}/`));
    return layer ?? 'other';
  }
  if (isBuiltin(spec)) return 'node';
  if (spec === 'electron' || spec.startsWith('electron/')) return 'electron';
  return 'package';
}

describe('architecture', () => {
  it('the import scanner sees every import form', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type {\n  B,\n  C,\n} from '../b.ts';",
      "export * from './c.ts';",
      "export type { D } from '@api/d.ts';",
      "import './side-effect.ts';",
      "const m = await import('node:fs');",
    ].join('\n');
    expect(imports(text)).toEqual([
      { spec: './a.ts', typeOnly: false },
      { spec: '../b.ts', typeOnly: true },
      { spec: './c.ts', typeOnly: false },
      { spec: '@api/d.ts', typeOnly: true },
      { spec: './side-effect.ts', typeOnly: false },
      { spec: 'node:fs', typeOnly: false },
    ]);
    const f = join(ROOT, LAYERS.api, 'contract.ts');
    expect(['../services/x.ts', '../core/field.ts', '@core/field.ts', './schemas.ts', 'fs', 'node:path', 'electron', 'zod'].map((s) => target(f, s))).toEqual([
      'services', 'core', 'core', 'api', 'node', 'node', 'electron', 'package',
    ]);
  });

  it.each(RULES)('layer $layer imports nothing its rule forbids', ({ layer, forbid, typesOnly = [] }) => {
    const files = sources(join(ROOT, LAYERS[layer]));
    expect(files.length).toBeGreaterThan(0);
    const bad: string[] = [];
    for (const f of files) {
      for (const { spec, typeOnly } of imports(readFileSync(f, 'utf8'))) {
        const t = target(f, spec);
        if (forbid.includes(t) && !(typeOnly && typesOnly.includes(t))) bad.push(`${relative(ROOT, f)} imports ${spec} (${t}${typesOnly.includes(t) ? ', types only are allowed' : ''})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the service folders import each other without loops (lazy imports count too)', () => {
    const svc = join(ROOT, LAYERS.services);
    // a file directly under services/ is the composition root (services.ts, app-context.ts), not a folder
    const folder = (abs: string) => {
      const r = relative(svc, abs);
      return r.startsWith('..') || !r.includes(sep) ? null : r.split(sep)[0]!;
    };
    const edges = new Map<string, Set<string>>();
    for (const f of sources(svc)) {
      const a = folder(f);
      if (!a) continue;
      for (const { spec } of imports(readFileSync(f, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const b = folder(resolve(dirname(f), spec));
        if (b && b !== a) (edges.get(a) ?? edges.set(a, new Set()).get(a)!).add(b);
      }
    }
    const loops: string[] = [];
    const visit = (start: string, path: string[]) => {
      for (const next of edges.get(path[path.length - 1]!) ?? []) {
        if (next === start) loops.push([...path, start].join(' -> '));
        else if (next > start && !path.includes(next)) visit(start, [...path, next]);
      }
    };
    for (const start of [...edges.keys()].sort()) visit(start, [start]);
    expect(edges.size).toBeGreaterThan(5);
    expect(loops).toEqual([]);
  });
});
