/**
 * Outputs are never half-written: a process killed (SIGKILL) while writing leaves either no file or the whole
 * file, never a partial one; its temporary file is removed the next time that folder is written to, and at
 * start-up for the store's files.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutputPath, removeLeftovers, sizeOf, writeAtomically, writeFileAtomic } from '../../../src-main/services/files/atomic.ts';
import { createApp } from '../../../src-main/services/app-context.ts';
import { storeFilesDir } from '../../../src-main/services/store/files.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { fieldpack } from '../../helpers/cli.ts';
import { callApi, startServer } from '../../e2e/harness.ts';

const tmp = tempDir();
afterAll(tmp.cleanup);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const ETOPO5 = '/usr/share/ferret-vis/data/etopo5.cdf';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `node` on a script, kills it with SIGKILL `ms` after it prints `after` (or after start), resolves when it is gone. */
function runAndKill(args: string[], ms: number, after?: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let t: NodeJS.Timeout | undefined;
    const arm = () => (t ??= setTimeout(() => child.kill('SIGKILL'), ms));
    if (!after) arm();
    child.stdout!.on('data', (d: Buffer) => {
      if (after && d.toString().includes(after)) arm();
    });
    child.on('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe('atomic outputs', () => {
  it('a failed write leaves neither the target nor a temporary file', async () => {
    const dir = join(tmp.dir, 'fail');
    mkdirSync(dir);
    await expect(writeAtomically(join(dir, 'out.bin'), async (t) => {
      writeFileSync(t, 'partial');
      throw new Error('disk full');
    })).rejects.toThrow('disk full');
    expect(readdirSync(dir)).toEqual([]);
    await writeFileAtomic(join(dir, 'out.bin'), 'whole');
    expect(readFileSync(join(dir, 'out.bin'), 'utf8')).toBe('whole');
    expect(readdirSync(dir)).toEqual(['out.bin']);
  });

  it('an output named by a link replaces the file it leads to, the link kept; a device or named pipe is refused, never replaced', async () => {
    const dir = join(tmp.dir, 'special');
    mkdirSync(dir);
    writeFileSync(join(dir, 'real.bin'), 'old');
    symlinkSync('real.bin', join(dir, 'link.bin'));
    await writeFileAtomic(join(dir, 'link.bin'), 'new');
    expect(lstatSync(join(dir, 'link.bin')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real.bin'), 'utf8')).toBe('new');
    // a dangling link: its file is made
    symlinkSync('later.bin', join(dir, 'dangling.bin'));
    await writeFileAtomic(join(dir, 'dangling.bin'), 'made');
    expect(readFileSync(join(dir, 'later.bin'), 'utf8')).toBe('made');
    expect(lstatSync(join(dir, 'dangling.bin')).isSymbolicLink()).toBe(true);
    // as root, compress -o /dev/null replaced the machine's /dev/null with a regular file
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    for (const special of ['/dev/null', join(dir, 'pipe')]) {
      await expect(checkOutputPath(special)).rejects.toThrow(/not a regular file/);
      await expect(writeFileAtomic(special, 'x')).rejects.toThrow(/not a regular file/);
    }
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    // a link to itself: refused, the link kept (it was replaced by a regular file, unasked)
    symlinkSync('loop.bin', join(dir, 'loop.bin'));
    await expect(writeFileAtomic(join(dir, 'loop.bin'), 'x')).rejects.toThrow(/loop\.bin is a symbolic link that leads round in a loop/);
    expect(lstatSync(join(dir, 'loop.bin')).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['dangling.bin', 'later.bin', 'link.bin', 'loop.bin', 'pipe', 'real.bin']);
  });

  it('-o /dev/stdout piped to another program is refused in words as not a regular file (it was a raw ENOENT from realpath)', async () => {
    const r = await fieldpack('compress', join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc3_64bit.nc'), '--var', 'sst', '--bound', 'rel:1e-3', '-o', '/dev/stdout');
    expect(r.status).not.toBe(0);
    // a shell's pipe is a named pipe, Node's a socket
    expect(r.stderr).toMatch(/\/dev\/stdout is (a named pipe|a socket), not a regular file/);
    expect(r.stderr).not.toMatch(/ENOENT/);
  });

  it('a writer killed mid-write leaves no partial file; its leftovers go at the next write', async () => {
    const dir = join(tmp.dir, 'kill');
    mkdirSync(dir);
    const target = join(dir, 'big.bin');
    const size = 64 << 20;
    const script = join(dir, 'writer.mts');
    writeFileSync(script, `import { writeFileAtomic } from ${JSON.stringify(join(ROOT, 'src-main/services/files/atomic.ts'))};\n` +
      `const b = new Uint8Array(${size}); b.fill(7);\nfor (;;) { process.stdout.write('writing\\n'); await writeFileAtomic(${JSON.stringify(target)}, b); }\n`);
    let leftovers = 0;
    for (const ms of [0, 5, 15, 30, 60]) {
      await runAndKill(['--import', 'tsx', script], ms, 'writing'); // one process: the writer itself is killed, mid-write
      const s = sizeOf(target);
      expect(s === -1 || s === size, `after a kill at ${ms} ms the target has ${s} bytes`).toBe(true);
      leftovers += readdirSync(dir).filter((n) => n.endsWith('.tmp')).length;
    }
    // killed writers left temporary files (not the target); the next write to that target removes them
    expect(leftovers).toBeGreaterThan(0);
    await writeFileAtomic(target, 'small');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(removeLeftovers(dir)).toEqual([]);
  }, 120_000);

  it('start-up removes temporary files a killed process left among the store\'s files', async () => {
    const db = join(tmp.dir, 'store.db');
    const app = createApp({ dbPath: db, door: 'cli' });
    const runs = join(storeFilesDir(app.store), 'runs', '7');
    await app.close();
    mkdirSync(runs, { recursive: true });
    // pid 2^22 + 1 is above Linux's pid_max default: a process that cannot be running
    const leftover = join(runs, `.T.fpk.${2 ** 22 + 1}-0123abcd.tmp`);
    writeFileSync(leftover, 'half');
    writeFileSync(join(runs, 'T.fpk'), 'whole');
    const again = createApp({ dbPath: db, door: 'cli' });
    await again.close();
    expect(existsSync(leftover)).toBe(false);
    expect(readFileSync(join(runs, 'T.fpk'), 'utf8')).toBe('whole');
  });

  it.skipIf(!existsSync(ETOPO5))('fieldpack compress killed at any moment leaves no partial .fpk (needs ferret-datasets)', async () => {
    const dir = join(tmp.dir, 'cli');
    mkdirSync(dir);
    const out = join(dir, 'rose.fpk');
    const cli = join(ROOT, 'bin', 'fieldpack.mjs');
    for (const ms of [1500, 2500, 3500, 4500, 6000]) {
      await runAndKill([cli, 'compress', ETOPO5, '--var', 'ROSE', '--bound', 'abs:0', '--workers', '1', '--no-verify', '-o', out], ms);
      if (existsSync(out)) {
        // whatever exists decodes whole
        await new Promise<void>((resolve, reject) => {
          const c = spawn(process.execPath, [cli, 'inspect', out], { cwd: ROOT, stdio: 'ignore' });
          c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`inspect of ${out} after a kill at ${ms} ms exited ${code}`))));
        });
      }
      await sleep(50);
    }
  }, 180_000);
  it.skipIf(!existsSync(ETOPO5))('fieldpack serve killed while it writes a stream leaves no partial file; a later write clears the leftover (needs ferret-datasets)', async () => {
    const dir = join(tmp.dir, 'serve');
    mkdirSync(dir);
    const out = join(dir, 'rose.fpk');
    const db = join(tmp.dir, 'serve.db');
    const server = await startServer(db);
    // lossless ROSE is ~20 MB: the temporary file exists for a while; kill the server the moment it appears
    const request = callApi(server, 'streams.compress', { file: ETOPO5, variable: 'ROSE', bound: { mode: 'abs', value: 0 }, workers: 1, verify: false, out }).catch(() => 'killed');
    let sawTemp = false;
    for (let t = 0; t < 120_000 && !sawTemp; t += 2) {
      sawTemp = readdirSync(dir).some((n) => n.startsWith('.rose.fpk.') && n.endsWith('.tmp'));
      if (!sawTemp) await sleep(2);
    }
    expect(sawTemp, 'the server never started writing').toBe(true);
    await server.stop('SIGKILL');
    expect(await request).toBe('killed');
    expect(existsSync(out), 'a killed write must not leave the target').toBe(false);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp')).length).toBe(1); // the killed server's temporary file
    // the next server writes the same target whole and removes the leftover
    const again = await startServer(db);
    try {
      await callApi(again, 'streams.compress', { file: ETOPO5, variable: 'ROSE', bound: { mode: 'rel', value: 1e-2 }, workers: 1, out });
    } finally {
      await again.stop();
    }
    expect(readdirSync(dir)).toEqual(['rose.fpk']);
  }, 240_000);
});
