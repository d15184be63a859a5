/** Fieldpack's version, from package.json (read once; works from sources and from the bundle). */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { version: string; root: string } | null = null;

/** The repository / app root: the nearest folder above this module with Fieldpack's package.json. */
export function appRoot(): string {
  return locate().root;
}

export function fieldpackVersion(): string {
  return locate().version;
}

function locate(): { version: string; root: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (json.name === 'fieldpack') return (cached = { version: json.version ?? '0.0.0', root: dir });
    }
    const up = dirname(dir);
    if (up === dir) return (cached = { version: '0.0.0', root: process.cwd() });
    dir = up;
  }
}
