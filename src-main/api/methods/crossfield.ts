/**
 * Cross-field workbench methods: rank candidate anchors for a target (with the reason for each) and list the
 * cross-field runs of a field. Runs themselves are jobs: jobs.submit({kind: 'crossfield', params: CrossfieldParams}).
 */
import { z } from 'zod';
import { BoundInput } from './compression.ts';

export const CrossfieldParams = z.strictObject({
  file: z.string().trim().min(1, 'a data file is needed'),
  target: z.string().trim().min(1, 'a target variable is needed'),
  /** anchor variables on the target's grid; empty = automatic selection */
  anchors: z.array(z.string().trim().min(1)).default([]),
  bound: BoundInput,
  /** 'best' tries no network (interpolation + anchors), the linear CFNN and the trained CFNN, keeping the smallest stream */
  network: z.enum(['cfnn', 'linear', 'none', 'best']).default('best'),
  ndim: z.union([z.literal(2), z.literal(3)]).optional(),
  epochs: z.number().int().min(1).max(200).optional(),
});
export type CrossfieldParams = z.infer<typeof CrossfieldParams>;

export const AnchorCandidateOut = z.object({
  var: z.string(),
  diffCorrelation: z.number().nullable(),
  valueCorrelation: z.number().nullable(),
  quickGain: z.number().optional(),
  score: z.number(),
  suggested: z.boolean(),
  reason: z.string(),
});

export const CROSSFIELD_METHODS = {
  'crossfield.rank': {
    input: z.object({
      file: z.string().trim().min(1),
      target: z.string().trim().min(1),
      quickGain: z.boolean().default(true),
      bound: BoundInput.optional(),
    }),
    output: z.object({ target: z.string(), shape: z.array(z.number()), candidates: z.array(AnchorCandidateOut), skipped: z.array(z.object({ var: z.string(), reason: z.string() })) }),
  },
} as const;
