/**
 * A destructive action that asks first (delete a project, a run; remove a dataset): `ask(item)` opens the
 * ConfirmDialog given this confirmation, its confirm button closes it and acts on the item asked about, its cancel
 * button (or a click beside it) closes it doing nothing. What each view did by hand with its own `toDelete` ref.
 */
import { shallowReactive } from 'vue';

export interface Confirmation<T> {
  /** the item the dialog asks about; null: no dialog */
  pending: T | null;
  ask(item: T): void;
  confirm(): Promise<void>;
  cancel(): void;
}

export function useConfirmation<T>(act: (item: T) => Promise<unknown>): Confirmation<T> {
  const c: Confirmation<T> = shallowReactive({
    pending: null,
    ask(item: T) {
      c.pending = item;
    },
    async confirm() {
      const item = c.pending;
      c.pending = null;
      if (item !== null) await act(item);
    },
    cancel() {
      c.pending = null;
    },
  });
  return c;
}
