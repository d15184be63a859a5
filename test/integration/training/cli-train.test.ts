import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainCommand } from '../../../src-main/doors/cli/commands/train.ts';
import type { CliRunContext } from '../../../src-main/doors/cli/command.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { COADS, systemTorch } from './real-fields.ts';

const torch = systemTorch();
const skip = 'skip' in torch ? torch.skip : !existsSync(COADS) ? `${COADS} not installed (apt-get install ferret-datasets)` : null;
if (skip) console.warn(`[cli train test] SKIPPED: ${skip}`);
const tmp = tempDir('fieldpack-cli-train-');
afterAll(() => tmp.cleanup());

function ctx(python?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const c: CliRunContext = {
    io: { out: (l) => out.push(l), err: (l) => err.push(l), progress: (_f, m) => progress.push(m), progressDone: () => undefined },
    app: () => Promise.reject(new Error('train needs no store')),
    globals: python ? { python } : {},
  };
  return { c, out, err, progress };
}

describe.skipIf(!!skip)('fieldpack train', () => {
  it('trains tiny-cnn on COADS (AIRT -> SST), prints device, time per epoch, model; exports a .fpmodel', async () => {
    const { c, out, err, progress } = ctx('/usr/bin/python3');
    const outDir = join(tmp.dir, 'run');
    const code = await trainCommand.run(
      ['--network', 'tiny-cnn', '--file', COADS, '--vars', 'AIRT', '--target', 'SST', '--epochs', '2', '--steps-per-epoch', '3', '--patch', '32', '--out', outDir, '--export', join(tmp.dir, 'm.fpmodel')],
      c,
    );
    expect(code, err.join('\n')).toBe(0);
    expect(err.join('\n')).toMatch(/device: cpu/);
    expect(out[0]).toMatch(/^finished: 2 epochs, 6 steps in .* s per epoch$/);
    expect(out.join('\n')).toMatch(/model: .*\/out \(content hash [0-9a-f]{64}\)/);
    expect(existsSync(join(tmp.dir, 'm.fpmodel'))).toBe(true);
    expect(progress.some((m) => /epoch 2\/2 step 3\/3/.test(m))).toBe(true);
  });

  it('an interpreter without torch is PYTHON_MISSING', async () => {
    const { c } = ctx(join(tmp.dir, 'no-such-python'));
    await expect(trainCommand.run(['--file', COADS, '--vars', 'AIRT', '--target', 'SST'], c)).rejects.toMatchObject({ code: 'PYTHON_MISSING' });
  });
});
