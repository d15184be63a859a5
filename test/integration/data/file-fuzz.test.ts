/**
 * Damaged and crafted data files, a fixed-seed run: the repository's NetCDF-3, NetCDF-4 and .npz fixtures and an .npy,
 * each case one to three mutations (bytes overwritten, a 32-bit field set to 0 / 1 / 2^31 / 2^32 - 1 / a random value,
 * mostly in the first 4 KiB where the headers are, or the file cut short), then opened and every readable variable
 * read. Each case reads, or fails with a FieldpackError that names the file and says the file is damaged (BAD_FILE)
 * or uses what Fieldpack does not read (UNSUPPORTED): never another error (a RangeError or TypeError escaping a
 * parser, an INVALID_ARGUMENT about a slice nobody asked for), a hang or a crash.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { caseRng } from '../../../src-main/services/codecs/fuzz-mutate.ts';
import { FIXTURES } from './helpers.ts';
import { npy } from '../../helpers/numpy-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'fieldpack-file-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEEDS: { name: string; bytes: Uint8Array }[] = [
  ...['synthetic_nc3_64bit.nc', 'synthetic_cdf5.nc', 'synthetic_nc4.nc', 'residual_input.npz', 'residual_input_stored.npz'].map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(FIXTURES, name))) })),
  { name: 'field.npy', bytes: npy(Float32Array.from({ length: 600 }, (_, i) => Math.sin(i / 7)), [20, 30]) },
];
const SPECIAL = [0, 1, 0x80000000, 0xffffffff, 0x7fffffff, 0x10000];

/** Case i: a seed file and one to three mutations of it. */
function mutated(seed: number, i: number): { name: string; what: string[]; bytes: Uint8Array } {
  const r = caseRng(seed, i);
  const s = SEEDS[Math.floor(r() * SEEDS.length)]!;
  let bytes = Uint8Array.from(s.bytes);
  const what: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const span = r() < 0.8 ? Math.min(bytes.length, 4096) : bytes.length;
    const kind = r();
    if (kind < 0.4) {
      const at = Math.floor(r() * span);
      bytes[at] = Math.floor(r() * 256);
      what.push(`byte ${at}`);
    } else if (kind < 0.85 && span >= 4) {
      const at = Math.floor(r() * (span - 3));
      const v = r() < 0.7 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : Math.floor(r() * 2 ** 32);
      new DataView(bytes.buffer).setUint32(at, v, r() < 0.5);
      what.push(`u32 ${v} at ${at}`);
    } else {
      const len = Math.floor(r() * bytes.length);
      bytes = bytes.slice(0, len);
      what.push(`cut to ${len}`);
    }
  }
  return { name: s.name, what, bytes };
}

describe('damaged data files (readers)', () => {
  it('500 mutated NetCDF-3 (CDF-2 and CDF-5), NetCDF-4, .npz and .npy files (seed 7): each reads, or is refused as BAD_FILE / UNSUPPORTED naming the file', async () => {
    const counts: Record<string, number> = {};
    const wrong: string[] = [];
    for (let i = 0; i < 500; i++) {
      const c = mutated(7, i);
      const path = join(dir, `case-${i}-${c.name}`);
      writeFileSync(path, c.bytes);
      let outcome = 'read';
      try {
        const f = await openDataFile(path);
        try {
          for (const v of f.variables) if (v.readable) await f.readField(v.name);
        } finally {
          f.close();
        }
      } catch (e) {
        const ok = e instanceof FieldpackError && (e.code === 'BAD_FILE' || e.code === 'UNSUPPORTED') && e.message.includes(path);
        outcome = e instanceof FieldpackError ? e.code : `${(e as Error).name}`;
        if (!ok) wrong.push(`case ${i} ${c.name} (${c.what.join(', ')}): ${outcome}: ${(e as Error).message}`);
      }
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      rmSync(path);
    }
    expect(wrong, JSON.stringify(counts)).toEqual([]);
    // the mutations reach the parsers: most files are refused, some still read
    expect(counts.BAD_FILE ?? 0).toBeGreaterThan(150);
    expect(counts.read ?? 0).toBeGreaterThan(50);
  }, 120_000);
});
