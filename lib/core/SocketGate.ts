// The read gate of a socket: it reads while data$ is subscribed and nothing holds it, and knows where the frames of its framer lie.
import type { Socket } from 'net';
import type { Subscriber, TeardownLogic } from 'rxjs';
import { asFrameCutSource } from '../util/FrameCut';
import type { FrameCut, FrameCutSource } from '../util/FrameCut';
import { ReadGate } from '../util/ReadGate';

/**
 * A `SocketConnection`'s `data$`: flowing means the socket reads (no closure per connection).
 * When the framer operator subscribes (`data$.pipe(decodeLines())`), the gate keeps it, so the
 * connection's writes can consult where the frames it hands on were cut.
 *
 * @internal
 */
export class SocketGate extends ReadGate {
  /** The last subscriber that knows where its frames lie, until it unsubscribes. */
  private cutSource: FrameCutSource | undefined = undefined;

  constructor(readonly socket: Socket) {
    super();
  }

  /** Where the frame handed on last to this socket's framer operator lies, if known. */
  get frameCut(): FrameCut | undefined {
    return this.cutSource?.frameCut;
  }

  override attach(subscriber: Subscriber<Buffer>): TeardownLogic {
    // Before attaching: chunks read before it are handed on now, and their frames may be written back.
    const source = asFrameCutSource(subscriber);
    if (source !== undefined) this.cutSource = source;
    const teardown = super.attach(subscriber);
    if (this.cutSource?.closed) this.cutSource = undefined;
    return teardown;
  }

  /** A subscriber leaves (see ReadGate#unsubscribe). */
  override unsubscribe(): void {
    if (this.cutSource?.closed) this.cutSource = undefined;
    super.unsubscribe();
  }

  protected override setFlowing(flowing: boolean): void {
    if (flowing) this.socket.resume();
    else this.socket.pause();
  }
}
