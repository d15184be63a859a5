/** Numbers as the workbench shows them: one rule for tables, tooltips, axis ticks and colour bars. */
import { describe, expect, it } from 'vitest';
import { MISSING, formatNumber, formatScaleEnds, toNumber } from '../../../src-renderer/src/format.ts';

describe('formatNumber', () => {
  it('writes up to 4 significant digits, trailing zeros dropped', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatNumber(3.14159265)).toBe('3.142');
    expect(formatNumber(-2.71828)).toBe('-2.718');
    expect(formatNumber(42)).toBe('42');
    expect(formatNumber(0.001)).toBe('0.001');
    expect(formatNumber(12345.678)).toBe('12346');
    expect(formatNumber(-12345)).toBe('-12345');
    expect(formatNumber(1234.567)).toBe('1235');
    expect(formatNumber(3.14159265, 6)).toBe('3.14159');
  });

  it('uses an exponent below 1e-3 and from 1e5 up, with as many digits as plain numbers get', () => {
    expect(formatNumber(1e-7)).toBe('1e-7');
    expect(formatNumber(-1.23456e-7)).toBe('-1.235e-7');
    expect(formatNumber(123456789)).toBe('1.235e+8');
    expect(formatNumber(-123456789)).toBe('-1.235e+8');
    expect(formatNumber(1e5)).toBe('1e+5');
    expect(formatNumber(1.5e-5, 3)).toBe('1.5e-5');
    // decided after rounding: these round to 1e+5 and 0.001
    expect(formatNumber(99999.9)).toBe('1e+5');
    expect(formatNumber(0.00099996)).toBe('0.001');
  });

  it('says MISSING for what is not there or not a number, and ∞ for the infinities', () => {
    for (const v of [null, undefined, NaN, '', '  ', 'NaN']) expect(formatNumber(v)).toBe(MISSING);
    expect(formatNumber(Infinity)).toBe('∞');
    expect(formatNumber(-Infinity)).toBe('-∞');
  });

  it('reads numbers given as strings (stored metrics keep NaN and Infinity as text); a word is shown as it is', () => {
    expect(formatNumber('0.000123456')).toBe('1.235e-4');
    expect(formatNumber(' 42 ')).toBe('42');
    expect(formatNumber('123456789')).toBe('1.235e+8');
    expect(formatNumber('Infinity')).toBe('∞');
    expect(formatNumber('-Infinity')).toBe('-∞');
    expect(formatNumber('n/a')).toBe('n/a');
  });

  it('writes whole numbers in full where asked (counts of points and bytes), up to 1e12', () => {
    expect(formatNumber(123456789, 4, { integersInFull: true })).toBe('123456789');
    expect(formatNumber(-12345, 4, { integersInFull: true })).toBe('-12345');
    expect(formatNumber(1e13, 4, { integersInFull: true })).toBe('1e+13');
    expect(formatNumber(0.1234567, 4, { integersInFull: true })).toBe('0.1235');
    expect(formatNumber(null, 4, { integersInFull: true })).toBe(MISSING);
  });
});

describe('toNumber', () => {
  it('parses numeric strings; missing and empty are NaN (Number("") would be 0)', () => {
    expect(toNumber(2.5)).toBe(2.5);
    expect(toNumber('1e-3')).toBe(0.001);
    expect(toNumber('Infinity')).toBe(Infinity);
    expect(toNumber('')).toBeNaN();
    expect(toNumber(null)).toBeNaN();
    expect(toNumber(undefined)).toBeNaN();
  });
});

describe('formatScaleEnds (colour bars)', () => {
  it('rounds both ends at the larger end and decides the exponent once for the pair', () => {
    expect(formatScaleEnds(-10376, 7833)).toEqual(['-10400', '7800']);
    expect(formatScaleEnds(1.2e-5, 0.5)).toEqual(['0', '0.5']);
    expect(formatScaleEnds(-1.234e-5, 5e-5)).toEqual(['-1.23e-5', '5e-5']);
    expect(formatScaleEnds(0, 123456789)).toEqual(['0', '1.23e+8']);
    // a narrow range far from 0 gets the digits that tell its ends apart (99665 … 99668 Pa read 99700 … 99700)
    expect(formatScaleEnds(99665.2, 99668.4)).toEqual(['99665', '99668']);
    expect(formatScaleEnds(5, 5)).toEqual(['5', '5']);
  });

  it('falls back to formatNumber when the scale is 0 or not finite', () => {
    expect(formatScaleEnds(0, 0)).toEqual(['0', '0']);
    expect(formatScaleEnds(NaN, 1)).toEqual([MISSING, '1']);
  });
});
