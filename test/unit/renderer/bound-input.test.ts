/** The bound form's parsing (Compress and Cross-field views): what is typed becomes runs only when it is a number. */
import { describe, expect, it } from 'vitest';
import { parseBoundValues } from '../../../src-renderer/src/components/compress/bound-input.ts';

describe('bound values typed in the form', () => {
  it('reads decimal numbers, each once (5 5 was two identical runs of each codec)', () => {
    expect(parseBoundValues('rel', '1e-2, 1e-3; .5 2. 1E-3 0.001')).toEqual({ values: [1e-2, 1e-3, 0.5, 2], error: '' });
    expect(parseBoundValues('abs', '5 5').values).toEqual([5]);
  });

  it('names what is not a decimal number (0x10 was taken as 16) or out of range', () => {
    expect(parseBoundValues('abs', '0x10, 1e-3')).toEqual({ values: [], error: 'not a decimal number: 0x10' });
    expect(parseBoundValues('abs', '0b11 0o7 abc -1').error).toBe('not a decimal number: 0b11, 0o7, abc');
    expect(parseBoundValues('abs', '-1 NaN Infinity').error).toBe('not a number >= 0: -1, NaN, Infinity');
    expect(parseBoundValues('psnr', '0, 40').error).toMatch(/^not a finite PSNR > 0 dB .*: 0$/);
    expect(parseBoundValues('rel', ' ').error).toBe('give at least one value');
  });
});
