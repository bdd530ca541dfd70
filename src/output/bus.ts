/**
 * The event bus. `emit` redacts every string in the event (registered vault secrets, no_log results are
 * already replaced by the executor) and then hands the same object to every subscriber in order.
 */
import { redact } from '../vault/redact.js';
import type { Listener, RunEvent } from './events.js';

function deepRedact<T>(v: T, depth = 0): T {
  if (depth > 64) return v;
  if (typeof v === 'string') return redact(v) as T;
  if (Array.isArray(v)) return v.map((x) => deepRedact(x, depth + 1)) as T;
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = deepRedact(x, depth + 1);
    return o as T;
  }
  return v;
}

export class EventBus {
  private readonly listeners: Listener[] = [];

  on(l: Listener): () => void {
    this.listeners.push(l);
    return () => {
      const i = this.listeners.indexOf(l);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  emit(e: RunEvent): void {
    const safe = deepRedact(e);
    for (const l of this.listeners) l(safe);
  }
}
