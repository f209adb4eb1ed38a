// A plain net client that reads lines, for specs of line-based servers (hub, chat) over loopback.
import * as net from 'net';

interface Waiter {
  test: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
  what: string;
}

/**
 * Connects a plain `net.Socket`, splits what it reads into lines (without `\n` / `\r\n`), and lets
 * a spec wait for a line by content. A wait that can no longer succeed (the socket closed)
 * rejects at once, so a failing spec fails fast instead of timing out.
 */
export class LineClient {
  /** Every line read so far. */
  readonly lines: string[] = [];
  /** Resolves once the socket has closed; never rejects. */
  readonly closed: Promise<{ hadError: boolean }>;
  /** True once the peer's FIN arrived. */
  ended = false;
  private cursor = 0;
  private partial = '';
  private waiters: Waiter[] = [];
  private isClosed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.read(text));
    socket.on('end', () => (this.ended = true));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', (hadError: boolean) => {
        this.isClosed = true;
        if (this.partial.length > 0) this.push(this.partial);
        this.partial = '';
        for (const w of this.waiters.splice(0)) {
          w.reject(new Error(`closed before a line ${w.what}; read: ${JSON.stringify(this.lines.slice(-5))}`));
        }
        resolve({ hadError });
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => {
        socket.removeListener('error', reject);
        resolve(new LineClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** The local port: the server sees it as the remote port. */
  get port(): number {
    return this.socket.localPort!;
  }

  /** Writes `line` and `\n`. */
  say(line: string): void {
    this.socket.write(line + '\n');
  }

  /**
   * Resolves with the first unread line that matches (a string: equal; a RegExp: matching),
   * marking it and every line before it read.
   */
  next(match: string | RegExp | ((line: string) => boolean) = () => true): Promise<string> {
    const test =
      typeof match === 'string'
        ? (l: string) => l === match
        : match instanceof RegExp
          ? (l: string) => match.test(l)
          : match;
    const what = typeof match === 'function' ? 'matching' : `like ${String(match)}`;
    for (let i = this.cursor; i < this.lines.length; i++) {
      if (test(this.lines[i])) {
        this.cursor = i + 1;
        return Promise.resolve(this.lines[i]);
      }
    }
    this.cursor = this.lines.length;
    if (this.isClosed) return Promise.reject(new Error(`closed before a line ${what}`));
    return new Promise((resolve, reject) => this.waiters.push({ test, resolve, reject, what }));
  }

  /** The lines read since the last `next()` match, marking them read. */
  unread(): string[] {
    const rest = this.lines.slice(this.cursor);
    this.cursor = this.lines.length;
    return rest;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    for (const part of parts) this.push(part.endsWith('\r') ? part.slice(0, -1) : part);
  }

  private push(line: string): void {
    this.lines.push(line);
    const w = this.waiters[0];
    if (w && w.test(line)) {
      this.waiters.shift();
      this.cursor = this.lines.length;
      w.resolve(line);
    }
  }
}
