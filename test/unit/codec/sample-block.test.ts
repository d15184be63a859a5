/**
 * auto plans on a block of the field: short axes (a few series, levels or members) stay whole in it, so the block
 * shows how they relate. A 2 x 3 x 100000 field (six related series) planned on a 1 x 2 x 60226 block took
 * interpolation at 9 x the size Lorenzo gives. Blocks spread over a large field give a second opinion: a central
 * block of open ocean hid the coasts of a field whose land was written as 0.
 */
import { describe, expect, it } from 'vitest';
import { encodeField } from '../../../src-main/services/codecs/index.ts';
import { sampleBlockRange } from '../../../src-main/core/compressors/classic/codec.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { coastsField } from '../../helpers/crafted-fields.ts';

/** 280 + 50 prod sin(a_i + 0.7 + 0.5 i), a_i spanning 3 pi (1 + 0.3 i) along axis i, plus a little noise. */
function series(shape: number[]): Field {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = 12345;
  const noise = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.03;
  const axis = (i: number, k: number) => Math.sin((3 * Math.PI * (1 + 0.3 * i) * k) / Math.max(1, shape[i]! - 1) + 0.7 + 0.5 * i);
  let o = 0;
  for (let a = 0; a < shape[0]!; a++) for (let b = 0; b < shape[1]!; b++) for (let c = 0; c < shape[2]!; c++) values[o++] = 280 + 50 * axis(0, a) * axis(1, b) * axis(2, c) + noise();
  return { name: 'S', shape, dims: ['m', 'n', 't'], values, sourceDtype: 'float32', attributes: {} } as Field;
}

describe('the block auto plans on', () => {
  it('keeps axes of up to 16 whole, shrinking the others', () => {
    expect(sampleBlockRange([2, 3, 100000], 1 << 17)!.size).toEqual([2, 3, 21845]);
    expect(sampleBlockRange([12, 289, 400], 1 << 17)!.size).toEqual([12, 89, 123]);
    // too short a budget for the long axes: every axis shrinks alike, as before
    expect(sampleBlockRange([16, 16, 16, 4000], 1 << 17)!.size).toEqual([16, 16, 16, 32]);
    // a long axis keeps 8 points at least, the longer ones sharing what is left (1 of the 17 was kept)
    expect(sampleBlockRange([2, 17, 1e6], 1 << 17)!.size).toEqual([2, 8, 8192]);
    // too short a budget for the long axes after the short ones: every axis shrinks alike, as before
    expect(sampleBlockRange([16, 16, 16, 16, 4000], 1 << 17)!.size.every((d, i) => d < [16, 16, 16, 16, 4000][i]!)).toBe(true);
    expect(sampleBlockRange([100, 100], 1 << 17)).toBeNull();
  });

  it('six related series of 100000 (2 x 3 x 100000) at rel 1e-2: auto is as small as the better of Lorenzo and interpolation', async () => {
    const f = series([2, 3, 100000]);
    const size = async (codec: string) => (await encodeField(f, { codec, bound: { mode: 'rel', value: 1e-2 }, workers: 0, verify: false })).bytes.length;
    const [lorenzo, interp] = [await size('lorenzo'), await size('interp-linear')];
    // the default (effort fast on these 0.6 M values) and the best effort
    for (const codec of ['auto', 'best']) {
      const chosen = await size(codec);
      expect(chosen, `${codec} ${chosen}, lorenzo ${lorenzo}, interp-linear ${interp}`).toBeLessThanOrEqual(1.05 * Math.min(lorenzo, interp));
    }
  }, 60_000);

  it('coasts away from an open-ocean centre (land as 0, 12 x 160 x 320) at rel 1e-3: auto within 5 % of the best single predictor', async () => {
    const f = coastsField([12, 160, 320]);
    const size = async (codec: string) => (await encodeField(f, { codec, bound: { mode: 'rel', value: 1e-3 }, workers: 0, verify: false })).bytes.length;
    const [lorenzo, linear, cubic] = [await size('lorenzo'), await size('interp-linear'), await size('interp-cubic')];
    // the central block alone chose a tuned cubic interpolation: 76450 bytes, against the linear one's 48812 (the
    // default, effort fast on these 0.6 M values, and the best effort)
    for (const codec of ['auto', 'best']) {
      const chosen = await size(codec);
      expect(chosen, `${codec} ${chosen}, lorenzo ${lorenzo}, interp-linear ${linear}, interp-cubic ${cubic}`).toBeLessThanOrEqual(1.05 * Math.min(lorenzo, linear, cubic));
    }
  }, 60_000);
});
