/**
 * Verify: every member's stream is there, whole and unchanged (size and SHA-256 of the file), decodes with its
 * dependencies from the archive, decodes to the values recorded at build time (SHA-256 of the decoded values), and
 * holds its bound: against the source file when it is still there and unchanged (every point), otherwise by the
 * achieved error recorded when the build checked every point. Objects (models, base streams) are checked by size and
 * hash, and a member whose object fails fails naming it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { errorStats } from '../../core/metrics/index.ts';
import { readManifest } from './build.ts';
import { SourceReader, decodeMember, decodedValuesProblem, readMemberStream, readRecordedFile } from './members.ts';
import { fromJsonNumber, valuesHash } from './format.ts';

export interface MemberCheck {
  id: string;
  ok: boolean;
  /** what was checked, or what failed */
  message: string;
  /** the bound was checked point by point against the source file */
  againstSource: boolean;
}

export interface VerifyReport {
  archive: string;
  ok: boolean;
  members: MemberCheck[];
  objects: { hash: string; file: string; ok: boolean; message: string }[];
  failed: number;
  /** what the checks could not cover (a manifest without its checksum) */
  notes: string[];
}

/** Said where a manifest carries no manifestSha256: an archive made before it, or one whose checksum was taken out. */
export const NO_MANIFEST_CHECKSUM = 'the manifest carries no checksum of itself (an archive made before them, or one whose checksum was removed): the members and objects were checked, but an edit of the manifest\'s attributes, coordinates or bounds cannot be seen';

export async function verifyArchive(dir: string, opts: { sources?: boolean; onProgress?: (f: number, m?: string) => void; signal?: AbortSignal } = {}): Promise<VerifyReport> {
  const manifest = readManifest(dir);
  const byId = new Map(manifest.members.map((m) => [m.id, m]));
  const objects = manifest.objects.map((o) => {
    try {
      readRecordedFile(dir, o.file, { bytes: o.bytes, sha256: o.hash }, `${o.kind} object`);
      return { hash: o.hash, file: o.file, ok: true, message: 'size and sha256 ok' };
    } catch (e) {
      if (!(e instanceof FieldpackError)) throw e;
      return { hash: o.hash, file: o.file, ok: false, message: e.message };
    }
  });
  const objectCheck = new Map(objects.map((o) => [o.file, o]));
  const cache = new Map<string, Field>();
  const sources = new SourceReader(manifest);
  const members: MemberCheck[] = [];
  for (const [i, e] of manifest.members.entries()) {
    if (opts.signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
    opts.onProgress?.(i / manifest.members.length, `member ${i + 1}/${manifest.members.length}: ${e.id}`);
    const fail = (message: string) => members.push({ id: e.id, ok: false, message, againstSource: false });
    let stream: Uint8Array;
    try {
      stream = readMemberStream(dir, e);
    } catch (err) {
      if (!(err instanceof FieldpackError)) throw err;
      fail(err.message);
      continue;
    }
    // a member whose base or model object is bad fails naming the object (its decode would only say it differs)
    const badObject = e.dependencies.map((d) => (d.kind === 'anchor' || !d.object ? null : objectCheck.get(d.object) ?? { ok: false, message: `${d.kind} object ${d.object} is not in the manifest's objects` })).find((o) => o && !o.ok);
    if (badObject) {
      fail(`member ${e.id}: needs ${badObject.message}`);
      continue;
    }
    let decoded: Field;
    try {
      decoded = await decodeMember(dir, byId, e, cache, opts.signal, stream);
    } catch (err) {
      fail(`member ${e.id}: does not decode: ${(err as Error).message}`);
      continue;
    }
    const differs = decodedValuesProblem(e, decoded);
    if (differs) {
      fail(differs);
      continue;
    }
    const recorded = fromJsonNumber(e.achieved.maxError);
    if (!(recorded <= e.bound.abs)) {
      fail(`member ${e.id}: recorded max error ${recorded} exceeds its bound ${e.bound.abs}`);
      continue;
    }
    let againstSource = false;
    let note = `bound ${e.bound.abs.toPrecision(4)} held at build (max error ${recorded.toPrecision(4)})`;
    if (opts.sources !== false) {
      const src = manifest.sources.find((s) => s.id === e.source);
      if (src && existsSync(src.path)) {
        const orig = await sources.read(e, opts.signal).catch(() => null);
        if (orig && valuesHash(orig.values, orig.mask) === e.originalSha256) {
          const st = errorStats(orig.values, decoded.values, orig.mask ?? null, e.bound.abs);
          if (st.pointsOverBound > 0 || !st.nonFiniteExact) {
            fail(`member ${e.id}: ${st.pointsOverBound} points exceed the bound ${e.bound.abs} against ${src.path}`);
            continue;
          }
          againstSource = true;
          note = `every point within ${e.bound.abs.toPrecision(4)} of ${src.name} (max error ${st.maxAbsError.toPrecision(4)})`;
        } else if (orig) note += `; ${src.name} has changed since, not compared`;
      }
    }
    members.push({ id: e.id, ok: true, message: `stream and decoded sha256 ok; ${note}`, againstSource });
  }
  sources.close();
  opts.onProgress?.(1, 'verified');
  const failed = members.filter((m) => !m.ok).length + objects.filter((o) => !o.ok).length;
  return { archive: dir, ok: failed === 0, members, objects, failed, notes: manifest.manifestSha256 === undefined ? [NO_MANIFEST_CHECKSUM] : [] };
}
