/**
 * The whole environment core may assume beyond ES2023 (checked by tsconfig.core.json, which has no
 * DOM lib and no Node types): UTF-8 text coding, present in Node, workers and browsers alike.
 * Only the parts core uses are declared; anything else environment-bound belongs to services.
 * The main tsconfig.json excludes this file, since there the DOM lib declares these already.
 */
declare class TextEncoder {
  constructor();
  readonly encoding: string;
  encode(input?: string): Uint8Array<ArrayBuffer>;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: ArrayBufferView | ArrayBufferLike, options?: { stream?: boolean }): string;
}

/**
 * WebAssembly, as far as the fast paths use it (core/nn/wasm-kernels.ts): present in Node, workers and browsers;
 * where it is missing or refuses a module, the fast path is off and the reference path runs.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
