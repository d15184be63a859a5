import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createApp } from '../../../src-main/services/app-context.ts';
import { dispatch } from '../../../src-main/services/services.ts';
import type { ApiEvent } from '../../../src-main/api/contract.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('jobs', () => {
  it('runs the demo job in a worker thread with progress, metrics and a finished run', async () => {
    const app = createApp({ dbPath: join(tmp.dir, 'a.db'), door: 'cli' });
    const events: ApiEvent[] = [];
    app.events.on((e) => events.push(e));
    const project = await dispatch(app.services, 'projects.create', { name: 'jobs' }) as { id: number };
    const run = (await dispatch(app.services, 'jobs.submit', { kind: 'demo', projectId: project.id, params: { steps: 5, size: 64, stepDelayMs: 0 } })) as { id: number };
    const done = await app.jobs.waitFor(run.id);
    expect(done.status).toBe('finished');
    expect(done.progress).toBe(1);
    expect(done.result).toMatchObject({ steps: 5 });
    const progress = events.filter((e) => e.type === 'run.updated' && e.run.id === run.id).map((e) => (e as { run: { progress: number } }).run.progress);
    expect(progress[progress.length - 1]).toBe(1);
    const detail = app.store.getRunDetail(run.id);
    expect(detail.metrics.filter((m) => m.key === 'entropy_bits')).toHaveLength(5);
    // Entropy grows as the bound shrinks.
    const h = detail.metrics.map((m) => m.value as number);
    expect(h[4]!).toBeGreaterThan(h[0]!);
    await app.close();
  });

  it('records a failing job as failed with its error, and keeps serving', async () => {
    const app = createApp({ dbPath: join(tmp.dir, 'b.db'), door: 'cli' });
    const bad = app.jobs.submit('demo', null, { steps: 5, size: 32, stepDelayMs: 0, failAtStep: 3 });
    const failed = await app.jobs.waitFor(bad.id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toContain('demo failure requested at step 3');
    const invalid = app.jobs.submit('demo', null, { steps: 'many' });
    expect((await app.jobs.waitFor(invalid.id)).error?.code).toBe('INVALID_ARGUMENT');
    const good = app.jobs.submit('demo', null, { steps: 2, size: 16, stepDelayMs: 0 });
    expect((await app.jobs.waitFor(good.id)).status).toBe('finished');
    await app.close();
  });

  it('cancels a running job and a scheduled one', async () => {
    const app = createApp({ dbPath: join(tmp.dir, 'c.db'), door: 'cli', jobConcurrency: 1 });
    const slow = app.jobs.submit('demo', null, { steps: 100, size: 32, stepDelayMs: 50 });
    const queued = app.jobs.submit('demo', null, { steps: 1, size: 16, stepDelayMs: 0 });
    await new Promise((r) => setTimeout(r, 400));
    expect(app.jobs.cancel(queued.id).status).toBe('cancelled');
    app.jobs.cancel(slow.id);
    const ended = await app.jobs.waitFor(slow.id);
    expect(ended.status).toBe('cancelled');
    expect(ended.progress).toBeLessThan(1);
    await app.close();
  });

  it('validates API input and names the problem', async () => {
    const app = createApp({ dbPath: join(tmp.dir, 'd.db'), door: 'cli' });
    await expect(dispatch(app.services, 'projects.create', { name: '   ' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('a project needs a name') });
    await expect(dispatch(app.services, 'projects.nope', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatch(app.services, 'projects.get', { id: 999 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await app.close();
  });

  it('jobs.submit checks each kind\'s params with its own schema before a run exists', async () => {
    const app = createApp({ dbPath: join(tmp.dir, 'f.db'), door: 'cli' });
    const before = app.store.listRuns({ limit: 100 }).length;
    // a compress job without a bound, a train job with an unknown network, hostile nesting: refused at submission
    await expect(dispatch(app.services, 'jobs.submit', { kind: 'compress', params: { file: 'x.nc', variable: 'T', codec: 'auto' } }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/params\.bound: compress:/) });
    await expect(dispatch(app.services, 'jobs.submit', { kind: 'train', params: { network: 'gpt', inputs: [{ file: 'a', variable: 'b' }], target: { file: 'a', variable: 'c' } } }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/params\.network: train:/) });
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    await expect(dispatch(app.services, 'jobs.submit', { kind: 'demo', params: deep })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/nested deeper/) });
    // names every object has (its prototype's) are no kinds: "constructor" made a run that finished with junk
    for (const kind of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      await expect(dispatch(app.services, 'jobs.submit', { kind, params: {} }), kind).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/unknown job kind/) });
    }
    expect(app.store.listRuns({ limit: 100 }).length).toBe(before);
    // a valid submission is stored with its defaults filled by the kind's schema
    const run = (await dispatch(app.services, 'jobs.submit', { kind: 'demo', params: { steps: 2, stepDelayMs: 0 } })) as { id: number; params: Record<string, unknown> };
    expect(run.params).toMatchObject({ steps: 2, size: 256, failAtStep: -1 });
    await app.jobs.waitFor(run.id);
    await app.close();
  });
});

describe('jobs: cancellation races', () => {
  it('a cancel that comes while a job saves its results (after ctx.saving()) is too late: the run finishes, with them', async () => {
    let release = () => {};
    const saving = new Promise<void>((r) => {
      release = r;
    });
    const app = createApp({
      dbPath: join(tmp.dir, 'late.db'), door: 'cli',
      jobHandlers: {
        late: async (_params, ctx) => {
          ctx.saving?.();
          ctx.metric?.('ratio', 4, 0);
          // writing what it made
          await saving;
          expect(ctx.signal.aborted).toBe(false);
          return { saved: true };
        },
      },
    });
    const runId = app.jobs.submit('late', null, {}).id;
    while (app.store.getRun(runId).status !== 'running') await new Promise((r) => setTimeout(r, 5));
    app.jobs.cancel(runId);
    release();
    const ended = await app.jobs.waitFor(runId);
    expect(ended.status).toBe('finished');
    expect(ended.result).toEqual({ saved: true });
    const detail = app.store.getRunDetail(runId);
    expect(detail.metrics.map((m) => m.key)).toEqual(['ratio']);
    expect(detail.logs.join(' ')).toMatch(/cancel asked for while the results were being saved: too late/);
    await app.close();
  });

  it('a cancel sent from the "running" event itself stops the job', async () => {
    const app = createApp({ dbPath: join(tmp.dir, 'e.db'), door: 'cli' });
    let runId = 0;
    app.events.on((e) => {
      if (e.type === 'run.updated' && e.run.id === runId && e.run.status === 'running') app.jobs.cancel(runId);
    });
    runId = app.jobs.submit('demo', null, { steps: 50, size: 32, stepDelayMs: 20 }).id;
    expect((await app.jobs.waitFor(runId)).status).toBe('cancelled');
    // Long enough for a handler that was not stopped to finish all its steps (50 x 20 ms).
    await new Promise((r) => setTimeout(r, 1500));
    const later = app.store.getRunDetail(runId);
    expect(later.status).toBe('cancelled');
    expect(later.metrics.length).toBeLessThan(50);
    await app.close();
  });
});
