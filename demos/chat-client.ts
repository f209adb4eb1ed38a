// A reactive chat client for the chat demo (and the seed's chat server): stdin lines go out, received lines are printed.
import {
  EMPTY,
  Observable,
  Subject,
  concat,
  finalize,
  ignoreElements,
  map,
  merge,
  mergeMap,
  of,
  takeUntil,
  tap,
} from 'rxjs';
import type { Readable } from 'stream';
import { connect, fromReadable, decodeLines, sendTo } from '../lib';
import { DEFAULT_CHAT_PORT } from './chat';
import { consoleLog, demoArgs, stopOnSignal } from './support';
import type { Log } from './support';

export interface ChatClientOptions {
  port: number;
  host: string;
  /** Lines to send, one message each (stdin in the demo). */
  input: Readable;
  /** Sent as `/nick NAME` first (the seed's server relays it as a plain line). */
  nick?: string;
  log?: Log;
}

/**
 * Connects, then sends each line of `input` (held back while the connection is not writable)
 * and prints each line received (\n or \r\n; the seed's server relays raw chunks, which this
 * frames into lines as well). When `input` ends we half-close and print what still comes until
 * the server closes; when the server closes first (an idle kick, a shutdown), we stop reading
 * `input` and end too. Completes once the connection has closed.
 */
export function chatClient(options: ChatClientOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  return connect({ port: options.port, host: options.host }).pipe(
    mergeMap((conn) => {
      log(`* connected to ${options.host}:${options.port}`);
      const source = fromReadable(options.input);
      const serverDone = new Subject<void>();
      const outbound = concat(
        options.nick ? of(`/nick ${options.nick}`) : EMPTY,
        source.data$.pipe(
          decodeLines(),
          map((line) => line.toString('utf8')),
        ),
      ).pipe(
        takeUntil(serverDone),
        map((text) => text + '\n'),
        sendTo(conn, { pauseSource: source }),
      );
      const inbound = conn.data$.pipe(
        decodeLines(),
        tap((line) => log(line.toString('utf8'))),
        // The server has ended its side: stop reading input, so the sink ends ours after what is queued.
        finalize(() => serverDone.next()),
      );
      return merge(outbound, inbound).pipe(ignoreElements());
    }),
    tap({ complete: () => log('* disconnected') }),
  );
}

/** `npm run demo -- chat-client [--port 1337] [--host H] [--nick NAME]`: type lines; Ctrl-D or Ctrl-C leaves. */
export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, DEFAULT_CHAT_PORT, { host: { type: 'string' }, nick: { type: 'string' } });
  const subscription = chatClient({
    port,
    host: (values.host as string | undefined) ?? '127.0.0.1',
    nick: values.nick as string | undefined,
    input: process.stdin,
  }).subscribe({
    error: (error) => {
      console.error('* error', error.code ?? '', error.message);
      process.exitCode = 1;
      process.stdin.destroy();
    },
    complete: () => process.stdin.destroy(),
  });
  stopOnSignal(subscription, () => process.stdin.destroy());
}

if (require.main === module) void main(process.argv.slice(2));
