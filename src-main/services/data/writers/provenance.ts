import pkg from '../../../../package.json' with { type: 'json' };

export const FIELDPACK_VERSION: string = (pkg as { version: string }).version;

/** Provenance attributes, every key prefixed `fieldpack_`; version and creation time always present. */
export function provenanceAttributes(p: Record<string, string | number | undefined> = {}): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    out[k.startsWith('fieldpack_') ? k : `fieldpack_${k}`] = v;
  }
  out['fieldpack_version'] ??= FIELDPACK_VERSION;
  out['fieldpack_created'] ??= new Date().toISOString();
  return out;
}
