// event_bus.ts - a small typed publish/subscribe bus for the dashboard
// widgets. Handlers run synchronously in subscription order; a throwing
// handler is reported and does not stop the others.

type Handler<T> = (payload: T) => void;

export interface DashboardEvents {
  "filter:changed": { field: string; value: string | null };
  "range:changed": { from: Date; to: Date };
  "widget:loaded": { id: string; ms: number };
  "widget:error": { id: string; error: Error };
  "theme:changed": { dark: boolean };
}

export class EventBus<Events extends Record<string, unknown>> {
  private handlers = new Map<keyof Events, Set<Handler<any>>>();
  private history: Array<{ type: keyof Events; payload: unknown; at: number }> = [];

  constructor(
    private readonly onError: (type: keyof Events, err: unknown) => void = (t, e) =>
      console.error(`handler for ${String(t)} failed`, e),
    private readonly historySize = 50,
  ) {}

  on<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => this.off(type, handler);
  }

  once<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    const off = this.on(type, (payload) => {
      off();
      handler(payload);
    });
    return off;
  }

  off<K extends keyof Events>(type: K, handler: Handler<Events[K]>): void {
    const set = this.handlers.get(type);
    if (!set) return;
    set.delete(handler);
    if (set.size === 0) this.handlers.delete(type);
  }

  emit<K extends keyof Events>(type: K, payload: Events[K]): number {
    this.history.push({ type, payload, at: Date.now() });
    if (this.history.length > this.historySize) this.history.shift();
    const set = this.handlers.get(type);
    if (!set) return 0;
    let called = 0;
    for (const h of [...set]) {
      try {
        h(payload);
        called++;
      } catch (err) {
        this.onError(type, err);
      }
    }
    return called;
  }

  // The last payload of a type, for widgets mounted after it was emitted.
  last<K extends keyof Events>(type: K): Events[K] | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) {
      if (this.history[i].type === type) return this.history[i].payload as Events[K];
    }
    return undefined;
  }

  listenerCount(type?: keyof Events): number {
    if (type !== undefined) return this.handlers.get(type)?.size ?? 0;
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
}

export const dashboardBus = new EventBus<DashboardEvents>();
