/**
 * The demo job's work, in a worker thread: quantize a synthetic smooth 2D field with a Lorenzo
 * predictor at a bound that halves each step, and report the entropy of the quantization codes.
 * Real CPU work with a visible progress curve; it exercises the whole job path end to end.
 */
import { serveWorkerTask } from '../jobs/worker-task.ts';

export interface DemoInput {
  steps: number;
  size: number;
  /** Pause after each step so that a person can watch the progress bar (0 in tests). */
  stepDelayMs: number;
  /** Fail at this step (tests of failure handling); -1 never. */
  failAtStep: number;
}

export interface DemoResult {
  steps: number;
  finalEntropyBits: number;
}

function syntheticField(n: number): Float64Array {
  const f = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) f[i * n + j] = Math.sin(i / 17) * Math.cos(j / 23) + 0.1 * Math.sin((i * j) / 500);
  return f;
}

/** Shannon entropy (bits per value) of the Lorenzo quantization codes at absolute bound eb. */
function lorenzoCodeEntropy(f: Float64Array, n: number, eb: number): number {
  const recon = new Float64Array(f.length);
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const k = i * n + j;
      const a = j > 0 ? recon[k - 1]! : 0;
      const b = i > 0 ? recon[k - n]! : 0;
      const c = i > 0 && j > 0 ? recon[k - n - 1]! : 0;
      const pred = a + b - c;
      const q = Math.round((f[k]! - pred) / (2 * eb));
      recon[k] = pred + 2 * eb * q;
      counts.set(q, (counts.get(q) ?? 0) + 1);
    }
  }
  let h = 0;
  for (const c of counts.values()) {
    const p = c / f.length;
    h -= p * Math.log2(p);
  }
  return h;
}

serveWorkerTask<DemoInput, DemoResult>(async (input, report) => {
  const field = syntheticField(input.size);
  let entropy = 0;
  for (let step = 1; step <= input.steps; step++) {
    if (step === input.failAtStep) throw new Error(`demo failure requested at step ${step}`);
    const eb = 0.1 / 2 ** (step - 1);
    entropy = lorenzoCodeEntropy(field, input.size, eb);
    report.metric('entropy_bits', entropy, step);
    report.progress(step / input.steps, `step ${step}/${input.steps}: bound ${eb.toExponential(2)}, ${entropy.toFixed(3)} bits/value`);
    if (input.stepDelayMs > 0) await new Promise((r) => setTimeout(r, input.stepDelayMs));
  }
  report.log(`finished ${input.steps} steps`);
  return { steps: input.steps, finalEntropyBits: entropy };
});
