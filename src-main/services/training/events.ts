/**
 * The trainer's JSON-lines protocol (resources/trainer/fieldpack_trainer/events.py), typed and
 * validated. Every event has `event` and `t` (seconds since the trainer started); numbers the trainer
 * could not compute (NaN, Infinity) arrive as null.
 */
import { z } from 'zod';

const num = z.number().nullable();
const base = { t: z.number() };

export const TrainerEventSchema = z.discriminatedUnion('event', [
  z.looseObject({ event: z.literal('started'), ...base, protocol: z.number(), trainerVersion: z.string(), pid: z.number(), network: z.string(), epochs: z.number(), python: z.string(), torch: z.string() }),
  z.looseObject({ event: z.literal('device'), ...base, device: z.enum(['cuda', 'cpu']), name: z.string().nullable(), cudaAvailable: z.boolean(), threads: z.number() }),
  // predictor networks report samples of one shape; the VQ-VAE (vqvae_train) reports maps of any shape
  z.looseObject({
    event: z.literal('data'), ...base, parameters: z.number(), validFraction: num,
    samples: z.number().optional(), trainSamples: z.number().optional(), validationSamples: z.number().optional(), validationIsTraining: z.boolean().optional(),
    spatialShape: z.array(z.number()).optional(), inChannels: z.number().optional(), outChannels: z.number().optional(),
    maps: z.number().optional(), trainMaps: z.number().optional(), validationMaps: z.number().optional(),
    // the NGLR trainer (nglr_train) reports points of quantized residuals
    points: z.number().optional(), trainPoints: z.number().optional(), validationPoints: z.number().optional(),
  }),
  z.looseObject({ event: z.literal('step'), ...base, epoch: z.number(), step: z.number(), stepsPerEpoch: z.number(), globalStep: z.number(), loss: num, lr: z.number() }),
  z.looseObject({ event: z.literal('validation'), ...base, epoch: z.number(), metrics: z.record(z.string(), z.unknown()) }),
  z.looseObject({ event: z.literal('epoch'), ...base, epoch: z.number(), epochs: z.number(), loss: num, valLoss: num, seconds: z.number(), steps: z.number() }),
  z.looseObject({ event: z.literal('checkpoint'), ...base, path: z.string(), epoch: z.number(), step: z.number() }),
  z.looseObject({ event: z.literal('finished'), ...base, epochs: z.number(), steps: z.number(), seconds: z.number(), metrics: z.record(z.string(), z.unknown()), artifacts: z.record(z.string(), z.string()), contentHash: z.string() }),
  z.looseObject({ event: z.literal('stopped'), ...base, reason: z.string().nullable(), epochs: z.number(), steps: z.number(), seconds: z.number(), checkpoint: z.string().optional(), metrics: z.record(z.string(), z.unknown()), artifacts: z.record(z.string(), z.string()), contentHash: z.string() }),
  z.looseObject({ event: z.literal('error'), ...base, kind: z.string(), message: z.string(), traceback: z.string().optional() }),
  z.looseObject({ event: z.literal('log'), ...base, level: z.string(), message: z.string() }),
]);

export type TrainerEvent = z.infer<typeof TrainerEventSchema>;
export type TrainerEventKind = TrainerEvent['event'];
export type TrainerEventOf<K extends TrainerEventKind> = Extract<TrainerEvent, { event: K }>;

/** One stdout line -> a typed event, or null for anything else (kept as a log line by the caller). */
export function parseTrainerLine(line: string): TrainerEvent | null {
  const s = line.trim();
  if (!s.startsWith('{')) return null;
  let json: unknown;
  try {
    json = JSON.parse(s);
  } catch {
    return null;
  }
  const r = TrainerEventSchema.safeParse(json);
  return r.success ? r.data : null;
}
