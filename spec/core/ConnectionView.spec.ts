// ConnectionView: every member is the wrapped connection's unless a view overrides it.
import { map, toArray } from 'rxjs';
import { ConnectionView } from '../../lib/core/ConnectionView';
import { connectionPair, createTestScheduler } from '../../lib/testing';
import type { Connection } from '../../lib/types';

class Upper extends ConnectionView {
  readonly data$ = this.inner.data$.pipe(map((chunk) => Buffer.from(chunk.toString().toUpperCase())));
}

describe('ConnectionView', () => {
  it('hands identity, addresses, flow control and writing to the connection it wraps', () => {
    // Memory connections deliver on the scheduler: in virtual time, flush() delivers.
    createTestScheduler().run(({ flush }) => {
      const [a, b] = connectionPair();
      const view: Connection = new Upper(a);
      expect(view.id).toBe(a.id);
      expect(view.events$).toBe(a.events$);
      expect([view.localAddress, view.localPort, view.remoteAddress, view.remotePort, view.remoteFamily]).toEqual([
        a.localAddress,
        a.localPort,
        a.remoteAddress,
        a.remotePort,
        a.remoteFamily,
      ]);
      expect(view.socket).toBe(a.socket);
      expect(view.tls).toBeUndefined(); // a memory connection has no TLS session
      expect(view.setNoDelay(true)).toBe(view);
      expect(view.setKeepAlive(true, 10)).toBe(view);
      expect(view.setTimeout(0)).toBe(view);

      const received: string[] = [];
      b.data$.subscribe((chunk) => received.push(chunk.toString()));
      expect(view.writable).toBe(a.writable);
      view.cork();
      expect(view.write('one')).toBe(true);
      view.uncork();
      expect(view.bytesWritten).toBe(a.bytesWritten);
      view.end('two');
      flush();
      expect(received.join('')).toBe('onetwo');
      expect(view.writeEnded).toBe(true);

      const release = view.holdReading();
      view.pause();
      view.resume();
      release();
      expect(view.closed).toBe(a.closed);
      expect(view.closeReason).toBeUndefined();
    });
  });

  it("reads through the view's own data$, and destroys the wrapped connection", () => {
    createTestScheduler().run(({ flush }) => {
      const [a, b] = connectionPair();
      const view = new Upper(a);
      const chunks: string[] = [];
      view.data$.pipe(toArray()).subscribe((all) => chunks.push(...all.map(String)));
      b.end('shout');
      flush();
      expect(chunks).toEqual(['SHOUT']);
      expect(view.bytesRead).toBe(5);
      const error = new Error('gone');
      view.destroy(error);
      expect(a.closed).toBe(true);
      expect(view.closeReason).toBe(error);
    });
  });
});
