import { defineStore } from 'pinia';
import { ref } from 'vue';
import { ApiError } from '../api/client.ts';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

/** Messages shown to the user; an API error shows its code and message, never a stack. */
export const useNotices = defineStore('notices', () => {
  const notices = ref<Notice[]>([]);
  let next = 1;
  function push(kind: Notice['kind'], text: string) {
    const id = next++;
    notices.value.push({ id, kind, text });
    if (kind === 'info') setTimeout(() => dismiss(id), 4000);
  }
  function error(err: unknown) {
    push('error', err instanceof ApiError ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err));
  }
  function dismiss(id: number) {
    notices.value = notices.value.filter((n) => n.id !== id);
  }
  function clear() {
    notices.value = [];
  }
  return { notices, push, error, dismiss, clear };
});
