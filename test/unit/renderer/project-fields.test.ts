/**
 * The field list of the Compress and Cross-field views (useProjectFields), with its API client replaced: each
 * project's dataset list is a promise the test resolves or rejects, in the order it chooses.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Dataset, FieldRecord } from '../../../src-main/api/contract.ts';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** project id -> its pending datasets.list reply; dataset id d holds one field, id 10 * d, named F<d> */
const lists = new Map<number, Deferred<Dataset[]>>();
vi.mock('../../../src-renderer/src/api/client.ts', () => ({
  ApiError: class extends Error {},
  api: {
    call: (method: string, input: { projectId?: number; datasetId?: number }) => {
      if (method === 'datasets.list') return lists.get(input.projectId!)!.promise;
      if (method === 'datasets.fields') return Promise.resolve([{ id: 10 * input.datasetId!, datasetId: input.datasetId, name: `F${input.datasetId}`, shape: [4, 4] }]);
      throw new Error(`unexpected ${method}`);
    },
  },
}));
const { useProjectFields } = await import('../../../src-renderer/src/components/use-project-fields.ts');
const { useNotices } = await import('../../../src-renderer/src/stores/notices.ts');

const dataset = (id: number) => ({ id, name: `D${id}` }) as Dataset;
const names = (fields: FieldRecord[]) => fields.map((f) => f.name);

describe('the fields of the chosen project', () => {
  beforeEach(() => {
    lists.clear();
    for (const p of [1, 2]) lists.set(p, deferred());
    setActivePinia(createPinia());
  });

  it('project A then quickly project B: A answering after B does not replace B\'s fields', async () => {
    const list = useProjectFields('compress.fields');
    const a = list.load(1);
    const b = list.load(2);
    lists.get(2)!.resolve([dataset(2)]);
    expect(await b).toBe(true);
    expect(names(list.fields.value)).toEqual(['F2']);
    lists.get(1)!.resolve([dataset(1)]);
    const aShown = await a;
    expect(names(list.fields.value)).toEqual(['F2']);
    // the view picks its default field only where load says its fields are shown
    expect(aShown).toBe(false);
  });

  it('A answering first while B is on its way is not shown either', async () => {
    const list = useProjectFields('compress.fields');
    const a = list.load(1);
    const b = list.load(2);
    lists.get(1)!.resolve([dataset(1)]);
    const aShown = await a;
    expect(list.fields.value).toEqual([]);
    expect(list.loaded.value).toBe(false);
    expect(aShown).toBe(false);
    lists.get(2)!.resolve([dataset(2), dataset(3)]);
    expect(await b).toBe(true);
    expect(names(list.fields.value)).toEqual(['F2', 'F3']);
    expect(list.loaded.value).toBe(true);
  });

  it('A failing after B answered says nothing and leaves B\'s fields', async () => {
    const list = useProjectFields('crossfield.fields');
    const a = list.load(1);
    const b = list.load(2);
    lists.get(2)!.resolve([dataset(2)]);
    await b;
    lists.get(1)!.reject(new Error('project 1 is gone'));
    expect(await a).toBe(false);
    expect(names(list.fields.value)).toEqual(['F2']);
    expect(useNotices().notices).toEqual([]);
  });

  it('no project after A: A answering later shows nothing', async () => {
    const list = useProjectFields('compress.fields');
    const a = list.load(1);
    expect(await list.load(null)).toBe(false);
    lists.get(1)!.resolve([dataset(1)]);
    expect(await a).toBe(false);
    expect(list.fields.value).toEqual([]);
  });

  it('keeps only the fields the view offers, each with its dataset\'s name', async () => {
    const list = useProjectFields('crossfield.fields', (f) => f.id !== 30);
    const done = list.load(1);
    lists.get(1)!.resolve([dataset(2), dataset(3)]);
    expect(await done).toBe(true);
    expect(list.fields.value.map((f) => [f.datasetName, f.name])).toEqual([['D2', 'F2']]);
  });
});
