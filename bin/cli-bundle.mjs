// The CLI's prebuilt bundle. Started from TypeScript sources, every command paid ~0.5 s of tsx transpiling and
// module resolution, and each worker thread paid it again. The launcher instead runs one esbuild bundle of the CLI
// and its worker entries (out/cli/KEY/), built on first use and rebuilt when a source file changes: KEY hashes
// the path, size and mtime of every file under src-main, so an edit or a checkout picks a new folder.
// Processes that build at the same time each write a private folder and rename it into place; the first wins.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Entry points: the CLI and every *.worker.ts (startWorker finds them next to the CLI as NAME.worker.js). */
function entryPoints(root) {
  const entries = [join(root, 'src-main', 'doors', 'cli', 'bundled.ts')];
  for (const file of sourceFiles(join(root, 'src-main'))) if (file.endsWith('.worker.ts')) entries.push(file);
  return entries;
}

function sourceFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else out.push(p);
  }
  return out.sort();
}

/**
 * Packages bundled in rather than loaded from node_modules at run time: zod alone is ~100 ES module files, whose
 * resolving and linking took ~40 ms of every command's start (pure JavaScript, no files beside them).
 */
const BUNDLED_PACKAGES = new Set(['zod']);
/** How the bundle is built: part of its key, so a change here rebuilds it. */
const BUILD_RECIPE = `v5 bundled:${[...BUNDLED_PACKAGES].join(',')} no-zod-locales paths-from-root`;

/** The sources' fingerprint: a new one whenever a file under src-main is added, removed or written. */
export function cliBundleKey(root) {
  const h = createHash('sha256');
  h.update(`${BUILD_RECIPE}\n`);
  for (const file of sourceFiles(join(root, 'src-main'))) {
    const s = statSync(file);
    h.update(`${relative(root, file)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

/** Old bundles are removed after a day (a long job started from one may still start workers from it). */
const KEEP_OLD_MS = 24 * 3600 * 1000;

/**
 * The bundled CLI entry (out/cli/KEY/bundled.js), built when missing; null when it cannot be built here (no
 * esbuild, a read-only install): the launcher then runs the sources through tsx, as before.
 */
export async function ensureCliBundle(root) {
  const base = join(root, 'out', 'cli');
  const key = cliBundleKey(root);
  const dir = join(base, key);
  const entry = join(dir, 'bundled.js');
  if (existsSync(entry)) return entry;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    const { build } = await import('esbuild');
    await build({
      entryPoints: entryPoints(root),
      outdir: tmp,
      // paths in the bundle relative to the project, whichever folder the first command ran in: the same key, the
      // same bundle (its comments named ../../../work/main/node_modules/... when built from another folder)
      absWorkingDir: root,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      // other dependencies stay in node_modules (native addons, WebAssembly files beside their modules)
      plugins: [keepPackagesExternal, withoutZodLocales],
      entryNames: '[name]',
      chunkNames: 'chunks/[name]-[hash]',
      logLevel: 'silent',
    });
    try {
      renameSync(tmp, dir);
    } catch {
      // another process put the same bundle in place first
      rmSync(tmp, { recursive: true, force: true });
    }
    pruneOldBundles(base, key);
    return existsSync(entry) ? entry : null;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (process.env.FIELDPACK_DEBUG) console.error(`fieldpack: no CLI bundle (${e.message}); running from sources`);
    return null;
  }
}

/** esbuild plugin: a bare import is external unless its package is in BUNDLED_PACKAGES. */
const keepPackagesExternal = {
  name: 'keep-packages-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const parts = args.path.split('/');
      const name = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

/**
 * esbuild plugin: zod's translated error messages left out. `z.locales` (40 languages, ~370 KB of the bundle) is
 * re-exported by zod's namespace, so it cannot be tree-shaken; Fieldpack words its own errors and zod's English
 * default comes from its own module (locales/en.js), which stays. Every command parsed and compiled it.
 */
const withoutZodLocales = {
  name: 'without-zod-locales',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'empty' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

function pruneOldBundles(base, keep) {
  const now = Date.now();
  for (const name of readdirSync(base)) {
    if (name === keep) continue;
    const p = join(base, name);
    try {
      if (now - statSync(p).mtimeMs > KEEP_OLD_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      // removed by another process meanwhile
    }
  }
}
