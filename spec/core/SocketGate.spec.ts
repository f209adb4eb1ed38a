// SocketGate, a socket connection's data$: it resumes and pauses its socket as reading is switched on and off, and
// keeps the framer operator that subscribed so the connection can ask where its frames lie. The gate's reading
// rules themselves: spec/util/ReadGate.spec.ts. On a real socket: spec/integration/SocketConnection.spec.ts.
import type { Socket } from 'net';
import { Subscriber } from 'rxjs';
import { SocketGate } from '../../lib/core/SocketGate';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { FrameCut } from '../../lib/util/FrameCut';

/** A socket that only records pause() and resume(): no handle, nothing opened. */
function fakeSocket(): Socket & { calls: string[] } {
  const calls: string[] = [];
  return { calls, pause: () => calls.push('pause'), resume: () => calls.push('resume') } as never;
}

/** A data$ subscriber that knows where its frames lie, as the framer operator's does. */
class CuttingSubscriber extends Subscriber<Buffer> {
  readonly frameCut = new FrameCut();
}

describe('SocketGate', () => {
  it('resumes its socket while data$ is subscribed and not held, and pauses it otherwise', () => {
    const socket = fakeSocket();
    const gate = new SocketGate(socket);
    expect(gate.socket).toBe(socket);
    const subscription = gate.subscribe();
    const release = gate.hold();
    release();
    subscription.unsubscribe();
    expect(socket.calls).toEqual(['resume', 'pause', 'resume', 'pause']);
  });

  it('knows no frame cut while no framer subscribed, nor for a plain subscriber', () => {
    const gate = new SocketGate(fakeSocket());
    expect(gate.frameCut).toBeUndefined();
    gate.subscribe(() => undefined);
    expect(gate.frameCut).toBeUndefined();
  });

  it('gives the cut record of the framer subscribed to it, and forgets the framer once it unsubscribed', () => {
    const gate = new SocketGate(fakeSocket());
    const framer = new CuttingSubscriber();
    const subscription = gate.subscribe(framer);
    const chunk = Buffer.from('ab\n');
    framer.frameCut.note(chunk.subarray(0, 2), chunk, 0, 2);
    expect(gate.frameCut).toBe(framer.frameCut);
    subscription.unsubscribe();
    expect(gate.frameCut).toBeUndefined();
  });

  it("keeps decodeLines()'s subscriber as the framer whose frames the connection writes back", () => {
    const gate = new SocketGate(fakeSocket());
    const seen: Array<[string, number | undefined, number | undefined]> = [];
    gate
      .pipe(decodeLines())
      .subscribe((line) => seen.push([line.toString(), gate.frameCut?.start, gate.frameCut?.end]));
    gate.push(Buffer.from('one\ntwo\n'));
    expect(seen).toEqual([
      ['one', 0, 3],
      ['two', 4, 7],
    ]);
  });

  it('forgets a framer that left while the chunks read before it were handed to it', () => {
    const gate = new SocketGate(fakeSocket());
    gate.push(Buffer.from('first\n')); // read before anyone subscribed: kept for the first subscriber
    /** Leaves at its first chunk, before attach() returns. */
    class LeavingSubscriber extends CuttingSubscriber {
      protected override _next(): void {
        this.unsubscribe();
      }
    }
    const framer = new LeavingSubscriber();
    framer.frameCut.note(Buffer.from('x'), Buffer.from('x'), 0, 1);
    gate.subscribe(framer);
    expect(framer.closed).toBe(true);
    expect(gate.frameCut).toBeUndefined();
  });
});
