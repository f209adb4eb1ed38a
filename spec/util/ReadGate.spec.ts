// ReadGate: reading only while observed and not held; nothing lost between subscribers.
import { Observable, take, takeWhile, toArray, firstValueFrom } from 'rxjs';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { ReadGate } from '../../lib/util/ReadGate';

function gateWithLog() {
  const flowing: boolean[] = [];
  const gate = new ReadGate((f) => flowing.push(f));
  const data$: Observable<Buffer> = gate;
  return { gate, data$, flowing };
}

const b = (s: string) => Buffer.from(s);

describe('ReadGate', () => {
  it('flows only while subscribed and not held', () => {
    const { gate, data$, flowing } = gateWithLog();
    const sub = data$.subscribe();
    const release = gate.hold();
    const release2 = gate.hold();
    release();
    release(); // idempotent
    release2();
    sub.unsubscribe();
    expect(flowing).toEqual([true, false, true, false]);
  });

  it('hands the rest of the held chunks, in order, to a subscriber that came while the first one left mid-replay', () => {
    const { gate, data$ } = gateWithLog();
    gate.drainWhenUnobserved();
    for (const s of ['c1', 'c2', 'c3']) gate.push(b(s));
    const got: string[] = [];
    data$.pipe(take(1)).subscribe((chunk) => {
      got.push(`A:${chunk}`);
      // Hand the rest of the stream to B.
      data$.subscribe((rest) => got.push(`B:${rest}`));
    });
    gate.push(b('c4'));
    expect(got).toEqual(['A:c1', 'B:c2', 'B:c3', 'B:c4']);
  });

  it('keeps chunks that arrive with no subscriber for the next one, and replays the end', async () => {
    const { gate, data$ } = gateWithLog();
    const first: string[] = [];
    data$.pipe(take(1)).subscribe((c) => first.push(c.toString()));
    gate.push(b('a'));
    gate.push(b('b')); // nobody listens now
    gate.push(b('c'));
    gate.end();
    const rest = await firstValueFrom(data$.pipe(toArray()));
    expect(first).toEqual(['a']);
    expect(rest.map(String)).toEqual(['b', 'c']);
    // A late subscriber after the end completes at once.
    expect(await firstValueFrom(data$.pipe(toArray()))).toEqual([]);
  });

  it('replays a failure to late subscribers', async () => {
    const { gate, data$ } = gateWithLog();
    const error = new Error('ECONNRESET');
    gate.fail(error);
    await expect(firstValueFrom(data$)).rejects.toBe(error);
  });

  it('gives the rest of the held chunks to the next subscriber when one leaves during replay', () => {
    const { gate, data$ } = gateWithLog();
    gate.push(b('1'));
    gate.push(b('2'));
    gate.push(b('3'));
    const one: string[] = [];
    data$.pipe(take(1)).subscribe((c) => one.push(String(c)));
    const rest: string[] = [];
    data$.subscribe((c) => rest.push(String(c)));
    expect(one).toEqual(['1']);
    expect(rest).toEqual(['2', '3']);
  });

  it('reads on without a subscriber after our FIN, keeping up to 64 KiB for a late subscriber', () => {
    const { gate, flowing } = gateWithLog();
    gate.drainWhenUnobserved();
    expect(flowing).toEqual([true]);
    gate.push(Buffer.alloc(64 * 1024));
    expect(flowing).toEqual([true, false]);
  });

  describe('what a TLS upgrade asks of it', () => {
    it('is stranded when a framer leaves holding part of a frame, until a new subscriber comes', () => {
      const { gate, data$ } = gateWithLog();
      const lines: string[] = [];
      data$
        .pipe(
          decodeLines(),
          takeWhile((line) => line.toString() !== 'STARTTLS'),
        )
        .subscribe((line) => lines.push(line.toString()));
      expect(gate.observed).toBe(true);
      gate.push(b('EHLO\nSTARTTLS\nRSET'));
      expect(lines).toEqual(['EHLO']);
      expect(gate.observed).toBe(false);
      expect(gate.stranded).toBe(true);
      data$.subscribe().unsubscribe();
      expect(gate.stranded).toBe(false);
    });

    it('is not stranded when the framer leaves at the end of a chunk, nor for a subscriber that is no framer', () => {
      const { gate, data$ } = gateWithLog();
      data$.pipe(decodeLines(), take(1)).subscribe();
      gate.push(b('STARTTLS\n'));
      expect(gate.observed).toBe(false);
      expect(gate.stranded).toBe(false);
      data$.pipe(take(1)).subscribe();
      gate.push(b('half a li'));
      expect(gate.stranded).toBe(false);
    });

    it('hands over the chunks kept for the next subscriber, once', () => {
      const { gate } = gateWithLog();
      gate.drainWhenUnobserved();
      gate.push(b('a'));
      gate.push(b('b'));
      expect(gate.takePending()?.map(String)).toEqual(['a', 'b']);
      expect(gate.takePending()).toBeUndefined();
    });
  });
});
