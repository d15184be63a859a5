/**
 * What the learned codecs' training jobs take from the trainer: the model file it names is checked before the store
 * keeps it (inside the run's folder, a model of the job's kind, the content hash reported). A stand-in Python that
 * passes the interpreter probe and then reports as the trainer would, falsely: no PyTorch needed.
 */
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fieldpack } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { COADS } from './real-fields.ts';

const tmp = tempDir('fieldpack-trainer-reports-');
afterAll(tmp.cleanup);

/** A stand-in interpreter: the probe's answer, then `finished` as the trainer's last line. */
function standIn(name: string, finished: Record<string, unknown>): string {
  const p = join(tmp.dir, name);
  const probe = { executable: p, pythonVersion: '3.11.2', numpyVersion: '1.24', torchVersion: '1.13.0', cudaAvailable: false, cudaVersion: null, gpuCount: 0, gpuName: null, onnxVersion: '1.14' };
  const event = { event: 'finished', t: 1, epochs: 1, steps: 1, seconds: 1, metrics: {}, ...finished };
  writeFileSync(p, `#!/bin/sh\nfor a in "$@"; do [ "$a" = "-m" ] && { echo '${JSON.stringify(event)}'; exit 0; }; done\necho 'FIELDPACK_PROBE ${JSON.stringify(probe)}'\n`);
  chmodSync(p, 0o755);
  return p;
}

describe.skipIf(!existsSync(COADS))('the trainer\'s reported model file (needs ferret-datasets)', () => {
  it('a model named outside the run folder, or none at all on finishing, fails the run; nothing enters the model folder', async () => {
    const hash = 'de'.repeat(32);
    for (const [name, finished, said] of [
      ['elsewhere.sh', { artifacts: { model: '/etc/hostname' }, contentHash: hash }, /named a model file outside its run folder: \/etc\/hostname/],
      ['nothing.sh', { artifacts: {}, contentHash: hash }, /finished without naming the model file it wrote/],
    ] as const) {
      const db = join(tmp.dir, `${name}.db`);
      const t = await fieldpack('--db', db, '--python', standIn(name, finished), 'train', '--network', 'vqvae', '--file', COADS, '--vars', 'SST', '--epochs', '1');
      expect(t.status, t.stdout).not.toBe(0);
      expect(t.stderr).toMatch(said);
      const models = join(tmp.dir, `${name}-files`, 'models', 'vqvae');
      expect(existsSync(models) ? readdirSync(models) : []).toEqual([]);
    }
  });
});
