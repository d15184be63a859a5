import { defineStore } from 'pinia';
import { ref } from 'vue';
import { ApiError } from '../api/client.ts';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
  /** how many times this message came (the same message again is counted, not stacked) */
  count: number;
  /** the action it reports ('projects.create', 'compare.tag', ...): its next success takes the notice away */
  about?: string;
}

/** At most this many notices on screen; the oldest go first. */
const MAX_NOTICES = 4;

/**
 * An API error's message without the method it came through where the API's checks refused the input
 * ("projects.create: name: a project name has at most 200 characters" says "name: ..."): the method names the door,
 * not the problem.
 */
function forPeople(err: ApiError): string {
  const issues = (err.details as { issues?: unknown } | undefined)?.issues;
  return err.code === 'INVALID_ARGUMENT' && Array.isArray(issues) ? err.message.replace(/^[a-z]+(\.[a-zA-Z]+)+: /, '') : err.message;
}

/**
 * Messages shown to the user; an API error shows its code and message, never a stack. A message that is already
 * shown for the same action moves to the end with its count raised (a retried action that fails the same way does not
 * fill the screen).
 * A notice about an action (`about`) is one notice: the action's next failure replaces it, and its next success (the
 * user fixed the input, or the server answers again) takes it away, so that an error stays only while it applies;
 * notices about other actions stay.
 */
export const useNotices = defineStore('notices', () => {
  const notices = ref<Notice[]>([]);
  let next = 1;
  function push(kind: Notice['kind'], text: string, about?: string) {
    const id = next++;
    const same = notices.value.find((n) => n.kind === kind && n.text === text && n.about === about);
    const rest = notices.value.filter((n) => n !== same && (about === undefined || n.about !== about));
    notices.value = [...rest.slice(Math.max(0, rest.length - (MAX_NOTICES - 1))), { id, kind, text, count: (same?.count ?? 0) + 1, ...(about !== undefined ? { about } : {}) }];
    if (kind === 'info') setTimeout(() => dismiss(id), 4000);
  }
  function error(err: unknown, about?: string) {
    push('error', err instanceof ApiError ? `${forPeople(err)} (${err.code})` : err instanceof Error ? err.message : String(err), about);
  }
  /** The action succeeded: what was said about its failures no longer applies. */
  function settled(about: string) {
    if (notices.value.some((n) => n.about === about && n.kind === 'error')) notices.value = notices.value.filter((n) => !(n.about === about && n.kind === 'error'));
  }
  /** the newest attempt of each action: an older one that ends later says nothing (its input is not the one shown) */
  const newest = new Map<string, number>();
  let attempts = 0;
  /**
   * Runs a user's action reported under `about`: its failure becomes the action's error notice, its success takes
   * that notice away. Resolves to the action's value, or undefined when it failed.
   */
  async function attempt<T>(about: string, action: () => Promise<T>): Promise<T | undefined> {
    const mine = ++attempts;
    newest.set(about, mine);
    try {
      const value = await action();
      if (newest.get(about) === mine) settled(about);
      return value;
    } catch (err) {
      if (newest.get(about) === mine) error(err, about);
      return undefined;
    }
  }
  function dismiss(id: number) {
    notices.value = notices.value.filter((n) => n.id !== id);
  }
  function clear() {
    notices.value = [];
  }
  return { notices, push, error, settled, attempt, dismiss, clear };
});
