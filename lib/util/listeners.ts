// Attaches a set of event listeners in one place and returns the function that removes them all.
import type { EventEmitter } from 'events';

export type ListenerMap = Record<string, (...args: any[]) => void>;

/** Adds every listener of `map` to `emitter`; the returned function removes exactly those. */
export function addListeners(emitter: EventEmitter, map: ListenerMap): () => void {
  const names = Object.keys(map);
  for (const name of names) emitter.on(name, map[name]);
  return () => {
    for (const name of names) emitter.removeListener(name, map[name]);
  };
}
