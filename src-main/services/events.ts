/** A tiny typed event bus: services emit ApiEvents, every door subscribes and forwards them. */
import type { ApiEvent } from '../api/contract.ts';

export class EventBus {
  private readonly listeners = new Set<(e: ApiEvent) => void>();

  on(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit = (e: ApiEvent): void => {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A failing listener (a closed socket) must not stop the others or the emitter.
      }
    }
  };
}
