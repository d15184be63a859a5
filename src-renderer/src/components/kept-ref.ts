import { type Ref, ref, watch } from 'vue';

/**
 * A form value that outlives its view: kept in this tab's sessionStorage under `key`, so a form is as it was left
 * when the user comes back to it (it was reset by every visit to another view) or reloads the tab. A kept value of
 * another type than `initial` (an older app's) is not taken.
 */
export function keptRef<T>(key: string, initial: T): Ref<T> {
  const storageKey = `fieldpack-form:${key}`;
  let start = initial;
  try {
    const kept = sessionStorage.getItem(storageKey);
    const parsed: unknown = kept === null ? undefined : JSON.parse(kept);
    if (parsed !== undefined && sameKind(parsed, initial)) start = parsed as T;
  } catch {
    /* storage unavailable or a damaged entry: the initial value */
  }
  const r = ref(start) as Ref<T>;
  watch(r, (v) => {
    try {
      sessionStorage.setItem(storageKey, JSON.stringify(v));
    } catch {
      /* full or unavailable: the form is simply not kept */
    }
  }, { deep: true });
  return r;
}

function sameKind(a: unknown, b: unknown): boolean {
  if (b === null) return a === null || typeof a === 'number' || typeof a === 'string';
  if (Array.isArray(b)) return Array.isArray(a);
  return typeof a === typeof b && (typeof b !== 'object' || (a !== null && !Array.isArray(a)));
}
