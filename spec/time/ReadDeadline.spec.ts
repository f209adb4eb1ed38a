// ReadDeadlines: the first byte and whole frames within their time, on the scheduler, counting only time spent reading.
import { TestScheduler } from 'rxjs/testing';
import { FirstByteTimeoutError, FrameTimeoutError } from '../../lib/errors';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { ReadDeadlines } from '../../lib/time/ReadDeadline';
import { ReadGate } from '../../lib/util/ReadGate';

interface Expiry {
  at: number;
  deadline: string;
  error: Error;
}

/**
 * Runs `script` in virtual time with one gate under deadlines of `firstByte` and `frame` ms; the gate is read by
 * decodeLines unless `read` is false. Returns what expired and whether the sweep was left scheduled.
 */
function run(
  firstByte: number,
  frame: number,
  script: (at: (ms: number, work: () => void) => void, gate: ReadGate) => void,
  read = true,
): { expired: Expiry[]; lines: string[]; actionsLeft: number } {
  const scheduler = new TestScheduler(() => undefined);
  const expired: Expiry[] = [];
  const lines: string[] = [];
  let actionsLeft = -1;
  scheduler.run(({ flush }) => {
    const deadlines = new ReadDeadlines<string>(firstByte, frame, scheduler, (_conn, deadline, error) => {
      expired.push({ at: scheduler.now(), deadline, error });
      gate.fail(error);
    });
    const gate = new ReadGate(() => undefined);
    gate.watch = deadlines.watch('conn', gate);
    if (read) gate.pipe(decodeLines()).subscribe({ next: (l) => lines.push(l.toString()), error: () => undefined });
    script((ms, work) => scheduler.schedule(work, ms), gate);
    flush();
    actionsLeft = scheduler.actions.length;
  });
  return { expired, lines, actionsLeft };
}

const push = (gate: ReadGate, text: string) => gate.push(Buffer.from(text));

describe('ReadDeadlines', () => {
  it('destroys a connection that sends nothing within firstByte ms of reading, within a tenth of it', () => {
    const { expired, actionsLeft } = run(100, 0, () => undefined);
    expect(expired).toHaveLength(1);
    expect(expired[0].deadline).toBe('first-byte');
    expect(expired[0].at).toBeGreaterThanOrEqual(100);
    expect(expired[0].at).toBeLessThanOrEqual(110);
    expect(expired[0].error).toEqual(new FirstByteTimeoutError(100));
    expect(actionsLeft).toBe(0);
  });

  it('stops watching once the first byte came, when no frame deadline is set', () => {
    const { expired, actionsLeft } = run(100, 0, (at, gate) => at(50, () => push(gate, 'x')));
    expect(expired).toEqual([]);
    expect(actionsLeft).toBe(0);
  });

  it('does not count time in which nobody reads: the first-byte clock starts when data$ is subscribed', () => {
    const { expired } = run(100, 0, (at, gate) => at(300, () => gate.subscribe({ error: () => undefined })), false);
    expect(expired.map((e) => e.deadline)).toEqual(['first-byte']);
    expect(expired[0].at).toBeGreaterThanOrEqual(400);
    expect(expired[0].at).toBeLessThanOrEqual(410);
  });

  it('destroys a peer dripping an unfinished frame at the frame deadline, though it is never idle', () => {
    const { expired, lines } = run(0, 50, (at, gate) => {
      for (let t = 0; t <= 200; t += 20) at(t, () => push(gate, 'x'));
    });
    expect(lines).toEqual([]);
    expect(expired).toHaveLength(1);
    expect(expired[0].deadline).toBe('frame');
    expect(expired[0].at).toBeGreaterThanOrEqual(50);
    expect(expired[0].at).toBeLessThanOrEqual(55);
    expect(expired[0].error).toEqual(new FrameTimeoutError(50, 3));
  });

  it('never fires for frames that complete in time, and leaves no sweep behind', () => {
    const { expired, lines, actionsLeft } = run(100, 50, (at, gate) => {
      for (let t = 0; t < 500; t += 40) {
        at(t, () => push(gate, 'ab'));
        at(t + 30, () => push(gate, 'c\n'));
      }
    });
    expect(expired).toEqual([]);
    expect(lines).toHaveLength(13);
    expect(actionsLeft).toBe(0);
  });

  it('starts a new frame clock when a chunk finishes one frame and begins the next', () => {
    const { expired } = run(0, 50, (at, gate) => {
      at(0, () => push(gate, 'abc\nd'));
      at(40, () => push(gate, 'e\nf')); // 'de' done, 'f' begins at 40
    });
    expect(expired).toHaveLength(1);
    expect(expired[0].at).toBeGreaterThanOrEqual(90);
    expect(expired[0].at).toBeLessThanOrEqual(95);
  });

  it('does not count time in which the application holds reading', () => {
    const { expired } = run(0, 50, (at, gate) => {
      let release: () => void = () => undefined;
      at(0, () => push(gate, 'half'));
      at(10, () => (release = gate.hold()));
      at(200, () => release());
    });
    // 50 ms of the frame's time, plus the 190 ms held, which do not count.
    expect(expired).toHaveLength(1);
    expect(expired[0].at).toBeGreaterThanOrEqual(240);
    expect(expired[0].at).toBeLessThanOrEqual(245);
  });

  it('counts the time before and after each hold: many short holds do not restart the frame clock', () => {
    const { expired } = run(0, 50, (at, gate) => {
      for (let t = 0; t <= 2000; t += 20) {
        at(t, () => {
          push(gate, 'x');
          const release = gate.hold();
          at(1, release); // held 1 ms after every byte, as a shaper in debt would
        });
      }
    });
    expect(expired).toHaveLength(1);
    expect(expired[0].at).toBeGreaterThanOrEqual(52);
    expect(expired[0].at).toBeLessThanOrEqual(60);
  });

  it('leaves no sweep running for a connection nobody reads, and none while reading is held', () => {
    const unread = run(100, 50, () => undefined, false);
    expect(unread.expired).toEqual([]);
    expect(unread.actionsLeft).toBe(0);
    const held = run(100, 50, (at, gate) => {
      at(10, () => push(gate, 'part'));
      at(20, () => gate.hold());
    });
    expect(held.expired).toEqual([]);
    expect(held.actionsLeft).toBe(0);
  });

  it('stops when the stream ends or fails: nothing expires and the sweep ends', () => {
    const ended = run(100, 50, (at, gate) => at(10, () => gate.end()));
    expect(ended.expired).toEqual([]);
    expect(ended.actionsLeft).toBe(0);
    const failed = run(100, 50, (at, gate) => {
      at(0, () => push(gate, 'part'));
      at(10, () => gate.fail(new Error('reset')));
    });
    expect(failed.expired).toEqual([]);
    expect(failed.actionsLeft).toBe(0);
  });

  it('gets no frame deadline where data$ is not read by a framer', () => {
    const scheduler = new TestScheduler(() => undefined);
    scheduler.run(({ flush }) => {
      const expired: string[] = [];
      const deadlines = new ReadDeadlines<string>(0, 50, scheduler, (_c, d) => expired.push(d));
      const gate = new ReadGate(() => undefined);
      gate.watch = deadlines.watch('conn', gate);
      gate.subscribe();
      push(gate, 'no newline ever');
      flush();
      expect(expired).toEqual([]);
      expect(deadlines.size).toBe(0);
    });
  });

  it('sweeps every tenth of the shorter deadline, at least every 1 ms', () => {
    const scheduler = new TestScheduler(() => undefined);
    const noop = () => undefined;
    expect(new ReadDeadlines(30_000, 30_000, scheduler, noop).tick).toBe(3000);
    expect(new ReadDeadlines(0, 5000, scheduler, noop).tick).toBe(500);
    expect(new ReadDeadlines(1000, 0, scheduler, noop).tick).toBe(100);
    expect(new ReadDeadlines(5, 7, scheduler, noop).tick).toBe(1);
  });
});
