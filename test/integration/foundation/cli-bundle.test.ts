/**
 * The CLI's prebuilt bundle (bin/cli-bundle.mjs): built on first use, rebuilt when a source changes, the same
 * results as the sources through tsx, worker threads started from their bundled files, and a fallback to the
 * sources when it cannot be built.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs module of the launcher, without types
import { cliBundleKey, ensureCliBundle } from '../../../bin/cli-bundle.mjs';
import { ROOT } from '../../helpers/cli.ts';
import { WRF_KATRINA } from '../../helpers/data-files.ts';
import { tempDir } from '../../helpers/tmp.ts';

const bundle = ensureCliBundle as (root: string) => Promise<string | null>;
const keyOf = cliBundleKey as (root: string) => string;

function fakeProject(dir: string, cliSource: string): void {
  mkdirSync(join(dir, 'src-main', 'doors', 'cli'), { recursive: true });
  mkdirSync(join(dir, 'src-main', 'services'), { recursive: true });
  writeFileSync(join(dir, 'src-main', 'doors', 'cli', 'bundled.ts'), cliSource);
  writeFileSync(join(dir, 'src-main', 'services', 'echo.worker.ts'), "import { parentPort } from 'node:worker_threads';\nparentPort?.postMessage('up');\n");
}

describe('the CLI bundle', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('is built once per state of the sources, with the workers beside it, and rebuilt after an edit', async () => {
    fakeProject(tmp.dir, "const greeting: string = 'built';\nconsole.log(greeting);\n");
    const first = await bundle(tmp.dir);
    expect(first).toBe(join(tmp.dir, 'out', 'cli', keyOf(tmp.dir), 'bundled.js'));
    expect(existsSync(join(first!, '..', 'echo.worker.js'))).toBe(true);
    expect(spawnSync(process.execPath, [first!], { encoding: 'utf8' }).stdout.trim()).toBe('built');
    expect(await bundle(tmp.dir)).toBe(first);
    // an edit (a later mtime) gives a new key and a new bundle; the old one stays for processes still using it
    const src = join(tmp.dir, 'src-main', 'doors', 'cli', 'bundled.ts');
    writeFileSync(src, "console.log('edited');\n");
    utimesSync(src, new Date(), new Date(Date.now() + 5000));
    const second = await bundle(tmp.dir);
    expect(second).not.toBe(first);
    expect(spawnSync(process.execPath, [second!], { encoding: 'utf8' }).stdout.trim()).toBe('edited');
    expect(existsSync(first!)).toBe(true);
  });

  it('is null when the sources do not build, so the launcher runs them through tsx', async () => {
    fakeProject(tmp.dir, 'this is not TypeScript (\n');
    expect(await bundle(tmp.dir)).toBeNull();
    expect(existsSync(join(tmp.dir, 'out', 'cli', keyOf(tmp.dir)))).toBe(false);
  });

  it('gives the same stream as the sources, with chunks coded in its worker threads', () => {
    const out = (name: string) => join(tmp.dir, name);
    const args = (o: string) => [
      join(ROOT, 'bin', 'fieldpack.mjs'), 'compress', WRF_KATRINA, '--var', 'T',
      '--bound', 'rel:1e-3', '--param', 'chunkValues=20000', '--workers', '2', '-o', o,
    ];
    const bundled = spawnSync(process.execPath, args(out('bundled.fpk')), { encoding: 'utf8', env: { ...process.env, FIELDPACK_FROM_SOURCE: '' } });
    expect(bundled.status, bundled.stderr).toBe(0);
    const source = spawnSync(process.execPath, args(out('source.fpk')), { encoding: 'utf8', env: { ...process.env, FIELDPACK_FROM_SOURCE: '1' } });
    expect(source.status, source.stderr).toBe(0);
    expect(readFileSync(out('bundled.fpk')).equals(readFileSync(out('source.fpk')))).toBe(true);
    expect(bundled.stdout).toContain('max error/bound');
    expect(existsSync(join(ROOT, 'out', 'cli', keyOf(ROOT), 'codec.worker.js'))).toBe(true);
  }, 120_000);

  it('carries zod inside, so a command does not resolve its ~100 module files at start (the NetCDF-3 reader is our own code)', async () => {
    const dir = join((await bundle(ROOT))!, '..');
    const files = [join(dir, 'bundled.js'), ...readdirSync(join(dir, 'chunks')).map((f) => join(dir, 'chunks', f))];
    const imported = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/from "([^".][^"]*)"/g)].map((m) => m[1]!));
    expect(imported.filter((p) => /^(zod|netcdfjs|iobuffer)(\/|$)/.test(p))).toEqual([]);
    // native addons and the rest stay in node_modules
    expect(imported.some((p) => !p.startsWith('node:'))).toBe(true);
  });

  it("leaves zod's translations out, and its messages stay English", async () => {
    const dir = join((await bundle(ROOT))!, '..');
    const text = readdirSync(join(dir, 'chunks')).map((f) => readFileSync(join(dir, 'chunks', f), 'utf8')).join('\n');
    expect(text).toContain('// node_modules/zod/v4/locales/en.js');
    expect(text).not.toMatch(/\/\/ node_modules\/zod\/v4\/locales\/(?!en\.js)/);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), 'compress', WRF_KATRINA, '--var', 'T', '--bound', 'rel:1e-3', '--param', 'chunkValues=5', '-o', join(tmp.dir, 'x.fpk')], { encoding: 'utf8', env: { ...process.env, FIELDPACK_FROM_SOURCE: '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('codec classic: chunkValues: Too small: expected number to be >=1024');
    expect(existsSync(join(tmp.dir, 'x.fpk'))).toBe(false);
  }, 60_000);
});
