/**
 * The WebAssembly kernels are built from the repository's own sources: the module core imports
 * (src-main/core/nn/wasm-kernels.generated.ts) is exactly what scripts/build-wasm.mjs makes of wasm/nn-kernels.ts.
 * Their bits are checked against the reference layers in test/unit/codec/vqvae.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('the WebAssembly kernels', () => {
  it('are the build of their AssemblyScript source (npm run build:wasm after an edit)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-wasm.mjs'), '--check'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 130_000);
});
