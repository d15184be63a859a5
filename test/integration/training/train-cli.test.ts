/**
 * `fieldpack train`'s flags, checked before any training (no Python needed): each network takes its own flags, and
 * one it does not take is a usage error (exit 2) naming the networks that take it, where it was accepted and then
 * ignored (`--network vqvae --export vq.fpmodel` finished and wrote no file).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fieldpack } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir('fieldpack-train-cli-');
afterAll(tmp.cleanup);

describe('fieldpack train flags', () => {
  it('refuses a flag the network does not take, naming the networks that take it, before anything is made', async () => {
    const db = join(tmp.dir, 'fp.db');
    const model = join(tmp.dir, 'vq.fpmodel');
    const cases: [string[], RegExp][] = [
      [['--network', 'vqvae', '--file', 'x.nc', '--vars', 'SST', '--export', model], /--export is for --network tiny-cnn\|cfnn; --network vqvae does not take it \(the VQ-VAE and NGLR models are one file each in the store's model folder/],
      [['--network', 'nglr', '--file', 'x.nc', '--vars', 'SST', '--out', tmp.dir], /--out is for --network tiny-cnn\|cfnn; --network nglr does not take it/],
      [['--network', 'vqvae', '--file', 'x.nc', '--vars', 'SST', '--target', 'AIRT'], /--target is for --network tiny-cnn\|cfnn; --network vqvae does not take it/],
      [['--network', 'nglr', '--file', 'x.nc', '--vars', 'SST', '--patch', '32'], /--patch is for --network tiny-cnn\|cfnn\|vqvae; --network nglr does not take it/],
      [['--file', 'x.nc', '--vars', 'SST', '--target', 'AIRT', '--causal', '8'], /--causal is for --network nglr; --network tiny-cnn does not take it/],
      [['--network', 'cfnn', '--file', 'x.nc', '--vars', 'SST', '--target', 'AIRT', '--channels', '4,8,8'], /--channels is for --network vqvae; --network cfnn does not take it/],
      [['--network', 'nglr', '--file', 'x.nc', '--vars', 'SST', '--scaling', 'log'], /--scaling is for --network vqvae; --network nglr does not take it \(the other networks standardise linearly\)/],
      [['--network', 'nglr', '--file', 'x.nc', '--vars', 'SST', '--bound', '1e-3'], /--bound: bad bound "1e-3": expected MODE:VALUE/],
      [['--network', 'nglr', '--file', 'x.nc', '--vars', 'SST', '--bound', 'nrmse:1e-5', '--bounds', 'nrmse:1e-4'], /--bounds is another name for --bound: give one of them/],
      [['--network', 'gpt', '--file', 'x.nc', '--vars', 'SST'], /--network must be one of tiny-cnn, cfnn, vqvae, nglr/],
    ];
    const runs = await Promise.all(cases.map(([args]) => fieldpack('--db', db, 'train', ...args)));
    runs.forEach((r, i) => {
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).toMatch(/^usage:$/m);
    });
    expect(existsSync(model)).toBe(false);
    expect(existsSync(db), 'refused before the store is opened').toBe(false);
  }, 60_000);

  it('lists in its help the flags every network takes and the ones it alone takes', async () => {
    const h = await fieldpack('help', 'train');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^every network also takes \[--seed N\] \[--device auto\|cpu\|cuda\] \[--threads N\] \[--project ID\] \[--json\], and the global --python PATH:$/m);
    expect(h.stdout).toMatch(/--network vqvae .*\n.*\[--patch N\] \[--patches-per-epoch N\]/);
    expect(h.stdout).toMatch(/--network nglr .*\n.*\[--max-points N\]/);
    expect(h.stdout).toMatch(/--bound \(or --bounds\)/);
  });
});
