/**
 * Creating a folder and the ones above it (mkdir -p), step by step. Node's own recursive mkdir never returns where a
 * folder refuses new entries with ENOENT although it exists (under /proc): an archive built into /proc/x hung the
 * process, deaf to Ctrl-C. Here each missing folder is made on its own, and the first refusal is said by name.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';

export function makeFolder(path: string): void {
  const missing: string[] = [];
  for (let d = resolve(path); !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // made meanwhile by another writer: as good as made here
      if (code === 'EEXIST') continue;
      throw new FieldpackError('INVALID_ARGUMENT', `cannot create the folder ${d} (${code ?? (e as Error).message})${d === resolve(path) ? '' : `, needed for ${path}`}`, { path });
    }
  }
}
