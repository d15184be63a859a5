import { describe, expect, it } from 'vitest';
import { firstNames } from '../../src-main/core/text.ts';

describe('firstNames (names in an error message)', () => {
  it('lists a few names whole and thousands as the first ones and how many more', () => {
    expect(firstNames(['a.nc', 'b.nc'], 10)).toBe('a.nc, b.nc');
    const many = Array.from({ length: 3000 }, (_, i) => `f${i}.nc`);
    expect(firstNames(many, 10)).toBe('f0.nc, f1.nc, f2.nc, f3.nc, f4.nc, f5.nc, f6.nc, f7.nc, f8.nc, f9.nc, and 2990 more');
    expect(firstNames(['x', 'y', 'z'], 2, '; ')).toBe('x; y; and 1 more');
  });
});
