// whenClosed: the internal close hook of rxnet's datagram sockets, and the listener list behind it.
import type { UdpSocket } from '../../lib/types';
import { CloseListeners, WHEN_CLOSED, whenClosed } from '../../lib/udp/whenClosed';

describe('CloseListeners', () => {
  it('calls every listener once, in the order added, and not one that was removed', () => {
    const listeners = new CloseListeners();
    const calls: string[] = [];
    listeners.add(() => calls.push('a'));
    const removeB = listeners.add(() => calls.push('b'));
    listeners.add(() => calls.push('c'));
    removeB();
    listeners.fire();
    listeners.fire();
    expect(calls).toEqual(['a', 'c']);
  });
});

describe('whenClosed', () => {
  it('registers with a socket that has the hook, and returns undefined for one that has not (noticed at its next send)', () => {
    const listeners = new CloseListeners();
    const ours = { closed: false, [WHEN_CLOSED]: (listener: () => void) => listeners.add(listener) };
    let told = 0;
    const remove = whenClosed(ours as unknown as UdpSocket, () => told++);
    expect(remove).toBeInstanceOf(Function);
    listeners.fire();
    expect(told).toBe(1);
    expect(whenClosed({ closed: false } as UdpSocket, () => told++)).toBeUndefined();
  });
});
