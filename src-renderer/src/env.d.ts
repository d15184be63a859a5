/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

interface Window {
  /** Present only inside the Electron app (see src-main/doors/electron/preload.ts). */
  fieldpack?: {
    call(method: string, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } }>;
    onEvent(listener: (event: unknown) => void): () => void;
  };
}
