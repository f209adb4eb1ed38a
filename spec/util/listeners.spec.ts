// addListeners(): attaches a map of listeners; the function it returns removes exactly those.
import { EventEmitter } from 'events';
import { addListeners } from '../../lib/util/listeners';

describe('addListeners', () => {
  it('attaches every listener of the map to its event', () => {
    const emitter = new EventEmitter();
    const seen: string[] = [];
    addListeners(emitter, { data: (x: string) => seen.push(`data ${x}`), end: () => seen.push('end') });
    emitter.emit('data', 'a');
    emitter.emit('end');
    expect(seen).toEqual(['data a', 'end']);
  });

  it('removes only its own listeners, the others of the same event staying', () => {
    const emitter = new EventEmitter();
    const seen: string[] = [];
    const other = () => seen.push('other');
    emitter.on('data', other);
    const remove = addListeners(emitter, { data: () => seen.push('mine'), close: () => seen.push('close') });
    expect([emitter.listenerCount('data'), emitter.listenerCount('close')]).toEqual([2, 1]);
    remove();
    emitter.emit('data');
    emitter.emit('close');
    expect(seen).toEqual(['other']);
    expect(emitter.listeners('data')).toEqual([other]);
    expect(emitter.listenerCount('close')).toBe(0);
    remove(); // a second call removes nothing more
    expect(emitter.listeners('data')).toEqual([other]);
  });
});
