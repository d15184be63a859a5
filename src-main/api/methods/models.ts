/** The model registry: trained and imported networks, exported and imported as one .fpmodel file. */
import { z } from 'zod';
import { Model, id } from '../schemas.ts';

const filePath = z.string().trim().min(1, 'a file path is needed');

export const MODEL_METHODS = {
  'models.list': { input: z.object({ projectId: id.nullable().optional() }), output: z.array(Model) },
  'models.get': { input: z.object({ id }), output: Model },
  'models.export': { input: z.object({ id, path: filePath }), output: z.object({ path: z.string(), sizeBytes: z.number(), contentHash: z.string() }) },
  'models.import': { input: z.object({ path: filePath, projectId: id.nullable().default(null) }), output: Model },
  'models.delete': { input: z.object({ id }), output: z.object({ deleted: id }) },
  /** Runs the model through onnxruntime and the deterministic reference path on its probe input, against PyTorch's output. */
  'models.verify': {
    input: z.object({ id }),
    output: z.object({
      referenceVsTorch: z.number(),
      onnxVsTorch: z.number().nullable(),
      referenceVsOnnx: z.number().nullable(),
      provider: z.string().nullable(),
      tolerance: z.number(),
      ok: z.boolean(),
    }),
  },
} as const;
