// localStorage for unit tests: a Map behind the Web Storage calls the renderer uses.
import type { KeyValueStorage } from '../terminals/tab-memory.ts';

export class MemoryStorage implements KeyValueStorage {
  readonly items = new Map<string, string>();
  /** Set to make every call throw, as a disabled or full storage does. */
  broken = false;

  getItem(key: string): string | null {
    this.check();
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.check();
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.check();
    this.items.delete(key);
  }

  private check(): void {
    if (this.broken) throw new Error('storage is disabled');
  }
}
