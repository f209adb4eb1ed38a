// MemoryWire, one direction of a connectionPair() in virtual time: latency, a stalled wire, the writer's and the
// reader's buffers, cork, and what a side that is gone does to the writes still on the wire; its options checked.
import { asyncScheduler } from 'rxjs';
import { InvalidArgumentError } from '../../lib/errors';
import { comparable, connectionPair, createTestScheduler } from '../../lib/testing';
import { asEventText } from '../support/memory';

const marbles = () => createTestScheduler({ assertDeepEqual: (actual, expected) => expect(actual).toEqual(expected) });
/** Runs `work` at `frame` of the current TestScheduler.run (asyncScheduler is virtual there). */
const at = (frame: number, work: () => void) => asyncScheduler.schedule(work, frame);

describe('MemoryWire', () => {
  describe('latency', () => {
    it('delays arrival by latency frames; the FIN follows the data', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair({ latency: 3 });
        at(1, () => client.write('a'));
        at(2, () => client.end('b'));
        expectObservable(server.data$).toBe('----a(b|)', { a: 'a', b: 'b' });
      });
    });

    it('lets a test change one direction on its wire: client.outbound is what the client writes', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        client.outbound.latency = 2;
        client.outbound.chunking = 1;
        at(1, () => client.write('ab'));
        at(1, () => server.write('cd'));
        expectObservable(server.data$, '^----!').toBe('---(ab)', { a: 'a', b: 'b' });
        expectObservable(client.data$, '^----!').toBe('-c', { c: 'cd' });
      });
    });
  });

  describe('writability', () => {
    it('makes write() return false on a stalled wire, then drains after resume', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        const results: boolean[] = [];
        at(1, () => client.outbound.stall());
        at(2, () => results.push(client.write('a')));
        at(3, () => results.push(client.write('b')));
        at(6, () => client.outbound.resume());
        expectObservable(client.writable$, '^------!').toBe('t-f---t', { t: true, f: false });
        expectObservable(server.data$, '^------!').toBe('------(ab)', { a: 'a', b: 'b' });
        expectObservable(client.events$.pipe(asEventText()), '^------!').toBe('------(wwx)', {
          w: 'written',
          x: 'drain',
        });
        at(7, () => expect(results).toEqual([false, false]));
      });
    });

    it('backs writes up to the writer when the reader stops reading: write() false at highWaterMark, drain on resume', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair({ receiveBuffer: 4, highWaterMark: 8 });
        server.pause();
        server.data$.subscribe();
        const results: boolean[] = [];
        // 4 bytes fit the reader's buffer; the next 8 stay with the writer, whose write() then says false.
        at(1, () => results.push(client.write('1234')));
        at(2, () => results.push(client.write('5678')));
        at(3, () => results.push(client.write('9abc')));
        at(4, () => {
          expect(results).toEqual([true, true, false]);
          expect(client.outbound.buffered).toBe(8);
          expect(client.outbound.unread).toBe(4);
        });
        at(6, () => server.resume());
        expectObservable(client.writable$, '^------!').toBe('t--f--t', { t: true, f: false });
      });
    });

    it('holds writes while corked and lets them go on uncork', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair({ chunking: 'merge' });
        at(1, () => {
          client.cork();
          client.write('a');
        });
        at(2, () => client.write('b'));
        at(3, () => client.uncork());
        expectObservable(server.data$, '^---!').toBe('---x', { x: 'ab' });
      });
    });
  });

  describe('a side that is gone', () => {
    it('drops what a destroyed side had not flushed: its callbacks get ERR_STREAM_DESTROYED', () => {
      marbles().run(() => {
        const [client] = connectionPair();
        let error: unknown;
        client.write('unsent', (e) => (error = e));
        client.destroy();
        at(1, () => expect(comparable(error)).toEqual({ name: 'Error', code: 'ERR_STREAM_DESTROYED' }));
      });
    });

    it('breaks a writer that writes to a peer that was destroyed (EPIPE)', () => {
      marbles().run(({ expectObservable }) => {
        const [client, server] = connectionPair();
        at(1, () => server.destroy());
        at(2, () => client.write('anyone?'));
        expectObservable(client.events$.pipe(asEventText())).toBe('--(ec|)', { e: 'error EPIPE', c: 'close true' });
      });
    });
  });

  it('rejects bad wire options', () => {
    expect(() => connectionPair({ latency: -1 })).toThrow(InvalidArgumentError);
    expect(() => connectionPair({ chunking: 0 })).toThrow(InvalidArgumentError);
    expect(() => connectionPair({ highWaterMark: 1.5 })).toThrow(InvalidArgumentError);
  });

  it('checks the settings a test changes on a live wire', () => {
    const [client] = connectionPair();
    expect(() => (client.outbound.latency = -1)).toThrow(InvalidArgumentError);
    expect(() => (client.outbound.highWaterMark = 1.5)).toThrow(expect.objectContaining({ argument: 'highWaterMark' }));
    expect(() => (client.outbound.receiveBuffer = -1)).toThrow(expect.objectContaining({ argument: 'receiveBuffer' }));
    expect(() => (client.outbound.chunking = 0)).toThrow(InvalidArgumentError);
    client.outbound.latency = 4;
    client.outbound.highWaterMark = 0;
    expect([client.outbound.latency, client.outbound.highWaterMark, client.inbound.latency]).toEqual([4, 0, 0]);
  });
});
