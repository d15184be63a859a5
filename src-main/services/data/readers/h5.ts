/** h5wasm, loaded once (its WebAssembly module initialises asynchronously). Node build: reads real files. */
import type * as H5 from 'h5wasm';

export type H5Module = typeof import('h5wasm').default;
export type H5File = H5.File;
export type H5Group = H5.Group;
export type H5Dataset = H5.Dataset;

let loading: Promise<H5Module> | undefined;

export function loadH5wasm(): Promise<H5Module> {
  loading ??= (async () => {
    const mod = (await import('h5wasm/node')).default as H5Module;
    await mod.ready;
    return mod;
  })();
  return loading;
}
