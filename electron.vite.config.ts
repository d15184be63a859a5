import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import { readdirSync } from 'node:fs';
import { join, resolve, basename } from 'node:path';

/** Every *.worker.ts under src-main becomes its own entry (out/main/NAME.worker.js), found by startWorker. */
function workerEntries(dir = 'src-main'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) Object.assign(out, workerEntries(p));
    else if (e.name.endsWith('.worker.ts')) out[basename(e.name, '.ts')] = resolve(p);
  }
  return out;
}

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      rollupOptions: {
        input: { index: resolve('src-main/doors/electron/main.ts'), ...workerEntries() },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: true,
      rollupOptions: {
        input: { index: resolve('src-main/doors/electron/preload.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    base: './',
    plugins: [vue()],
    resolve: { alias: { '@api': resolve('src-main/api') } },
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve('src-renderer/index.html') } },
      chunkSizeWarningLimit: 2000,
    },
  },
});
