import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ApiOutput } from '@api/contract.ts';
import type { BoundInput, CompressCodec, CompressRunRow } from '@api/methods/compression.ts';
import { api } from '../api/client.ts';
import { useJobs } from './jobs.ts';

export type CodecInfos = ApiOutput<'compression.codecs'>;

/** A field to compress: a dataset field, or a file + variable typed by the user. */
export interface FieldChoice {
  file: string;
  variable: string;
  fieldId?: number;
  datasetId?: number;
}

/** Compression workbench state: the codec list and the compress runs of the current project. */
export const useCompression = defineStore('compression', () => {
  const codecs = ref<CodecInfos>([]);
  const runs = ref<CompressRunRow[]>([]);
  const loadedFor = ref<number | null>(null);
  const jobs = useJobs();

  async function loadCodecs() {
    if (!codecs.value.length) codecs.value = await api.call('compression.codecs', {});
    return codecs.value;
  }
  async function loadRuns(projectId: number | null) {
    runs.value = await api.call('compression.runs', { projectId });
    loadedFor.value = projectId;
    return runs.value;
  }
  /** One job per codec x bound; each becomes a run of the project. */
  /** `models`: the model reference of each codec that takes one, by codec id ('default', a sha256 prefix, a .fpvq path) */
  /** `matchPsnr`: a baseline (zfp, sz3) also gets a row tuned to the PSNR Fieldpack reaches (match: 'psnr') */
  /** losslessValues: bound values that resolve to lossless on this field (a constant or all-NaN one): no PSNR to match there */
  async function submit(projectId: number | null, field: FieldChoice, codecList: CompressCodec[], bounds: BoundInput[], workers?: number, models: Record<string, string> = {}, base?: string, matchPsnr = false, losslessValues: readonly number[] = []) {
    const submitted = [];
    const isBaseline = (codec: string) => codecs.value.find((c) => c.id === codec)?.kind === 'baseline';
    for (const bound of bounds) {
      const plan: { codec: CompressCodec; match?: 'bound' | 'psnr' }[] = codecList.flatMap((codec) =>
        isBaseline(codec) && matchPsnr && bound.value > 0 && !losslessValues.includes(bound.value) ? [{ codec, match: 'bound' as const }, { codec, match: 'psnr' as const }] : [{ codec }],
      );
      for (const { codec, match } of plan) {
        const params = {
          ...(match ? { match } : {}),
          file: field.file,
          variable: field.variable,
          ...(field.fieldId ? { fieldId: field.fieldId } : {}),
          ...(field.datasetId ? { datasetId: field.datasetId } : {}),
          bound,
          codec,
          ...(workers !== undefined ? { workers } : {}),
          ...modelParams(codec, models[codec]),
          ...(base?.trim() && base.trim() !== 'none' && codecs.value.find((c) => c.id === codec)?.takesBase ? { base: base.trim() } : {}),
        };
        const run = await api.call('jobs.submit', { kind: 'compress', projectId, params, name: `${codec} ${field.variable} ${bound.mode}:${bound.value}${match === 'psnr' ? ' (PSNR-matched)' : ''}` });
        // forward only: the job may have failed already, its events ahead of this reply
        jobs.upsert(run);
        submitted.push(run);
      }
    }
    return submitted;
  }
  function modelParams(codec: CompressCodec, model: string | undefined): { params?: Record<string, unknown> } {
    const key = codecs.value.find((c) => c.id === codec)?.modelParam;
    return key && model?.trim() ? { params: { [key]: model.trim() } } : {};
  }
  return { codecs, runs, loadedFor, loadCodecs, loadRuns, submit };
});
