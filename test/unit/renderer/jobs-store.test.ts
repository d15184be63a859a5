/**
 * The renderer's jobs store (the Jobs panel), with its API client replaced: the order in which a reply and the
 * server's events arrive is the test's to choose.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { ApiEvent, Run } from '../../../src-main/api/contract.ts';

const listeners: ((e: ApiEvent) => void)[] = [];
let reply: (input: unknown) => Promise<unknown> = async () => undefined;
vi.mock('../../../src-renderer/src/api/client.ts', () => ({
  api: { door: 'http', call: (_method: string, input: unknown) => reply(input), onEvent: (l: (e: ApiEvent) => void) => listeners.push(l) },
}));
const { useJobs } = await import('../../../src-renderer/src/stores/jobs.ts');

const run = (status: Run['status'], error: string | null = null, createdAt = '2026-12-06T00:00:00.000Z') => ({
  id: 42, projectId: null, kind: 'compress', name: 'compress', status, params: {}, progress: 0, message: null, error,
  createdAt, updatedAt: createdAt, startedAt: null, endedAt: null,
}) as unknown as Run;
const emit = (e: ApiEvent) => listeners.forEach((l) => l(e));

describe('the jobs store', () => {
  beforeEach(() => {
    listeners.length = 0;
    setActivePinia(createPinia());
  });

  it('a job that failed before the reply to its submission arrived shows failed, not scheduled', async () => {
    const jobs = useJobs();
    // the server created the run, the job failed at once, and its events came before the HTTP reply
    reply = async () => {
      emit({ type: 'run.updated', run: run('running') } as ApiEvent);
      emit({ type: 'run.updated', run: run('failed', 'no variable NOPE') } as ApiEvent);
      return run('scheduled');
    };
    await jobs.submit('compress', null, {});
    expect(jobs.runs.get(42)?.status).toBe('failed');
    expect(jobs.runs.get(42)?.error).toBe('no variable NOPE');
    expect(jobs.active).toEqual([]);
  });

  it('events in order move a run forward as they come', async () => {
    const jobs = useJobs();
    reply = async () => run('scheduled');
    await jobs.submit('compress', null, {});
    expect(jobs.active.map((r) => r.status)).toEqual(['scheduled']);
    emit({ type: 'run.updated', run: run('running') } as ApiEvent);
    expect(jobs.runs.get(42)?.status).toBe('running');
    emit({ type: 'run.updated', run: run('finished') } as ApiEvent);
    expect(jobs.runs.get(42)?.status).toBe('finished');
    // that run deleted, the store gives its id to the next job: a new run, shown as it moves
    reply = async () => run('scheduled', null, '2026-12-06T01:00:00.000Z');
    await jobs.submit('compress', null, {});
    expect(jobs.active.map((r) => r.status)).toEqual(['scheduled']);
    emit({ type: 'run.updated', run: run('running', null, '2026-12-06T01:00:00.000Z') } as ApiEvent);
    expect(jobs.runs.get(42)?.status).toBe('running');
  });
});
