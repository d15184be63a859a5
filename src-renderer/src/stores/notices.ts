import { defineStore } from 'pinia';
import { ref } from 'vue';
import { ApiError } from '../api/client.ts';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
  /** how many times this message came (the same message again is counted, not stacked) */
  count: number;
}

/** At most this many notices on screen; the oldest go first. */
const MAX_NOTICES = 4;

/**
 * Messages shown to the user; an API error shows its code and message, never a stack. A message that is already
 * shown moves to the end with its count raised (a retried action that fails the same way does not fill the screen).
 */
/**
 * An API error's message without the method it came through where the API's checks refused the input
 * ("projects.create: name: a project name has at most 200 characters" says "name: ..."): the method names the door,
 * not the problem.
 */
function forPeople(err: ApiError): string {
  const issues = (err.details as { issues?: unknown } | undefined)?.issues;
  return err.code === 'INVALID_ARGUMENT' && Array.isArray(issues) ? err.message.replace(/^[a-z]+(\.[a-zA-Z]+)+: /, '') : err.message;
}

export const useNotices = defineStore('notices', () => {
  const notices = ref<Notice[]>([]);
  let next = 1;
  function push(kind: Notice['kind'], text: string) {
    const id = next++;
    const same = notices.value.find((n) => n.kind === kind && n.text === text);
    const rest = notices.value.filter((n) => n !== same);
    notices.value = [...rest.slice(Math.max(0, rest.length - (MAX_NOTICES - 1))), { id, kind, text, count: (same?.count ?? 0) + 1 }];
    if (kind === 'info') setTimeout(() => dismiss(id), 4000);
  }
  function error(err: unknown) {
    push('error', err instanceof ApiError ? `${forPeople(err)} (${err.code})` : err instanceof Error ? err.message : String(err));
  }
  function dismiss(id: number) {
    notices.value = notices.value.filter((n) => n.id !== id);
  }
  function clear() {
    notices.value = [];
  }
  return { notices, push, error, dismiss, clear };
});
