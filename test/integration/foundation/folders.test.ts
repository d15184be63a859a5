/**
 * Folders made on the way to an output (archives, restores, reports, the store, training runs). Node's recursive
 * mkdir never returns where a folder exists but takes no new entries (ENOENT under /proc): an archive built into
 * /proc/x hung the server's main thread, deaf to SIGTERM, and the job stayed "scheduled". makeFolder says why.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolder } from '../../../src-main/services/files/folders.ts';
import { fieldpack } from '../../helpers/cli.ts';
import { COADS } from '../../helpers/data-files.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir('fieldpack-folders-');

describe('makeFolder', () => {
  it('makes every missing folder above, and leaves an existing one as it is', () => {
    const deep = join(tmp.dir, 'a', 'b', 'c');
    makeFolder(deep);
    expect(existsSync(deep)).toBe(true);
    makeFolder(deep);
    mkdirSync(join(tmp.dir, 'x'));
    makeFolder(join(tmp.dir, 'x'));
  });

  it('names the folder it cannot make: one under a file, and one under /proc (where Node\'s own never returns)', () => {
    writeFileSync(join(tmp.dir, 'file'), '');
    expect(() => makeFolder(join(tmp.dir, 'file', 'sub'))).toThrow(/cannot create the folder .*file\/sub \(ENOTDIR\)/);
    expect(() => makeFolder('/proc/fieldpack-nope/members')).toThrow(/cannot create the folder \/proc\/fieldpack-nope \(ENOENT\), needed for \/proc\/fieldpack-nope\/members/);
  });

  it('fieldpack archive build into a folder that cannot be made ends at once with that error', async () => {
    const r = await fieldpack('archive', 'build', COADS, '--vars', 'SST', '--bound', 'rel:1e-2', '-o', '/proc/fieldpack-nope');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot create the folder \/proc\/fieldpack-nope \(ENOENT\)/);
  }, 60_000);
});
