/**
 * The codec registry: codec id (as written in stream headers) -> codec. Codecs register from
 * core/compressors/index.ts, one line each; every caller (services, doors, views through the API, the bench,
 * the archive builder) asks here and never tests a codec id itself.
 */
import { FieldpackError } from '../errors.ts';
import type { StreamHeader } from '../codec/stream/format.ts';
import type { Codec, CodecPreset, CodecTask } from './contract.ts';

const codecs = new Map<string, Codec>();

export function registerCodec<P extends Record<string, unknown>>(codec: Codec<P>): void {
  if (codecs.has(codec.id)) throw new FieldpackError('INTERNAL', `codec id ${codec.id} registered twice`);
  const names = new Set(allPresets().map((p) => p.preset.name));
  for (const p of codec.presets) if (names.has(p.name)) throw new FieldpackError('INTERNAL', `codec preset ${p.name} registered twice`);
  codecs.set(codec.id, codec as unknown as Codec);
}

/** Removes a codec (tests that register a toy codec). */
export function unregisterCodec(id: string): void {
  codecs.delete(id);
}

export function listCodecs(): Codec[] {
  return [...codecs.values()];
}

export function codecById(id: string): Codec {
  const c = codecs.get(id);
  if (!c) {
    throw new FieldpackError('UNSUPPORTED', `codec "${id}" is not known to this Fieldpack (known: ${[...codecs.keys()].join(', ')}); a newer version may read it`);
  }
  return c;
}

/** A codec's named worker task (the pool's workers and the in-thread runner both run it). */
export function codecTask(id: string, task: string): CodecTask {
  const fn = codecById(id).tasks?.[task];
  if (!fn) throw new FieldpackError('INTERNAL', `codec ${id} has no task ${task}`);
  return fn;
}

/** The codec that decodes a stream. */
export function codecOf(header: StreamHeader): Codec {
  return codecById(header.codec);
}

export function allPresets(): { codec: Codec; preset: CodecPreset<Record<string, unknown>> }[] {
  return listCodecs().flatMap((codec) => codec.presets.map((preset) => ({ codec, preset })));
}

/** A preset by its name, or a codec id (its params then default through its schema). */
export function resolveCodecChoice(name: string): { codec: Codec; params: Record<string, unknown> } {
  const p = allPresets().find((x) => x.preset.name === name);
  if (p) return { codec: p.codec, params: { ...p.preset.params } };
  const c = codecs.get(name);
  if (c) return { codec: c, params: {} };
  const known = [...new Set([...allPresets().map((x) => x.preset.name), ...codecs.keys()])];
  throw new FieldpackError('INVALID_ARGUMENT', `unknown codec ${JSON.stringify(name)} (known: ${known.join(', ')})`);
}
