// The read gate of a socket: it reads while data$ is subscribed and nothing holds it, and knows where the frames of its framer lie.
import type { Socket } from 'net';
import { asFrameCutSource, type FrameCut } from '../util/FrameCut';
import { ReadGate } from '../util/ReadGate';

/**
 * A `SocketConnection`'s `data$`: flowing means the socket reads (no closure per connection).
 * When the framer operator subscribes (`data$.pipe(decodeLines())`), the connection's writes can
 * consult where the frames it hands on were cut.
 *
 * @internal
 */
export class SocketGate extends ReadGate {
  constructor(readonly socket: Socket) {
    super();
  }

  /**
   * Where the frame handed on last to this socket's framer operator lies: asked of the subscriber
   * itself (the last framer operator to come, when there are several), so no field per connection.
   */
  get frameCut(): FrameCut | undefined {
    const sole = this.sole;
    if (sole !== undefined) return asFrameCutSource(sole)?.frameCut;
    const several = this.several;
    if (several === undefined) return undefined;
    for (let i = several.length - 1; i >= 0; i--) {
      const source = asFrameCutSource(several[i]);
      if (source !== undefined && !source.closed) return source.frameCut;
    }
    return undefined;
  }

  protected override setFlowing(flowing: boolean): void {
    if (flowing) this.socket.resume();
    else this.socket.pause();
  }
}
