#!/usr/bin/env node
// The `fieldpack` launcher. Fieldpack needs Node >= 22.15 (better-sqlite3 13, zstd in zlib); when started
// by an older Node it re-runs itself with the Node 22 that `npm install` put in node_modules.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  const local = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(local)) {
    console.error(`fieldpack needs Node >= 22.15 (this is ${process.version}); run npm install in ${root} or install a newer Node`);
    process.exit(1);
  }
  // Transparent huge pages for glibc's large allocations (the fields' arrays), where the system leaves them to
  // madvise: a fresh array's first touch costs far less (a 37 MB field: ~100 -> ~10 ms on a VM; decompressing etopo5
  // 20-35 % faster). Only here, where a process is started anyway; a tunable the user set is kept.
  const tunables = process.env.GLIBC_TUNABLES;
  const env = process.platform === 'linux' && !tunables?.includes('glibc.malloc.hugetlb')
    ? { ...process.env, GLIBC_TUNABLES: tunables ? `${tunables}:glibc.malloc.hugetlb=1` : 'glibc.malloc.hugetlb=1' }
    : process.env;
  const child = spawn(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  // Ctrl-C reaches the child through the terminal's process group: let it stop its job and print the
  // outcome before we exit. A SIGTERM sent to us alone is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
} else {
  // a reader that stops early (`fieldpack archive list | head`) closes the pipe: stop quietly, as Unix tools do
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  // the prebuilt bundle (cli-bundle.mjs) unless FIELDPACK_FROM_SOURCE is set or it cannot be built
  const bundle = process.env.FIELDPACK_FROM_SOURCE ? null : await (await import('./cli-bundle.mjs')).ensureCliBundle(root);
  if (bundle) {
    // V8's code cache on disk: later runs skip compiling the bundle
    (await import('node:module')).enableCompileCache?.();
    await import(pathToFileURL(bundle).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    const { main } = await import('../src-main/doors/cli/main.ts');
    process.exitCode = await main(process.argv.slice(2));
  }
}
