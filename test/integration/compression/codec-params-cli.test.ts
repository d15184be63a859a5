/**
 * Codec params as the command line gives them (--param KEY=VALUE): numbers, true / false and arrays are parsed (an
 * array param such as lbrc's block could not be given before), and a value of the wrong type is said as such, not
 * as a param left out.
 */
import { describe, expect, it } from 'vitest';
import { CliUsageError, paramFlags, parseFlags } from '../../../src-main/doors/cli/command.ts';
import { codecParams } from '../../../src-main/services/codecs/index.ts';

const params = (...kv: string[]) => paramFlags(parseFlags(kv.flatMap((x) => ['--param', x]), { values: ['param'] }));

describe('--param', () => {
  it('parses numbers, booleans, JSON arrays and comma-separated numbers; other text stays text', () => {
    expect(params('a=3', 'b=true', 'c=[8,8,8]', 'd=4,4', 'e=huffman', 'f=A,B')).toEqual({ a: 3, b: true, c: [8, 8, 8], d: [4, 4], e: 'huffman', f: 'A,B' });
    expect(() => params('block=[8,8')).toThrow(CliUsageError);
    expect(() => params('block=[8,8')).toThrow(/not a JSON array \(e\.g\. block=\[8,8,8\]\)/);
  });

  it('lbrc takes its block from the command line; a value of the wrong type is named with what it takes', () => {
    expect(codecParams('lbrc', params('block=8,8,8')).params.block).toEqual([8, 8, 8]);
    expect(() => codecParams('lbrc', params('block=abc'))).toThrow(/codec lbrc: block takes an array, not "abc"/);
    expect(() => codecParams('classic', { predictor: 5 })).toThrow(/predictor/);
  });
});

describe('--model', () => {
  it('an empty --model (an unset shell variable) is a usage error, and model none for the VQ-VAE says it needs one', async () => {
    const { fieldpack } = await import('../../helpers/cli.ts');
    const { COADS } = await import('../../helpers/data-files.ts');
    const empty = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--codec', 'vqvae', '--model', '', '-o', '/tmp/fp-unused.fpk');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/--model needs a model: default, a model file, or a sha256 prefix of 8\+ hex digits/);
    const none = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--codec', 'vqvae', '--model', 'none', '-o', '/tmp/fp-unused.fpk');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/the VQ-VAE codes with a model: give default, a \.fpvq file or a sha256 prefix/);
  });
});
