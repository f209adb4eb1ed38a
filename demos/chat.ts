// Reactive twin of the seed's broadcast chat server (003) on 1337: lines, nicknames, join/leave notices, idle disconnect.
import { EMPTY, Observable, catchError, defer, finalize, map, mergeMap, throwError } from 'rxjs';
import type { ObservableInput, SchedulerLike } from 'rxjs';
import {
  FrameTooLongError,
  Hub,
  IdleTimeoutError,
  idleTimeout,
  decodeLines,
  listen,
  redisBackplane,
  serveEach,
  serverMetrics,
  wiretap,
} from '../lib';
import type { Backplane, BoundAddress, Connection, RedisBackplaneOptions, ServerMetrics } from '../lib';
import { consoleLog, demoArgs, shutDownOnSignals } from './support';
import type { Log } from './support';

export const DEFAULT_CHAT_PORT = 1337;
/** Five minutes without a whole line and a member is disconnected. */
export const DEFAULT_IDLE_MS = 300_000;
export const MAX_LINE_BYTES = 1024;
/** Messages that may wait for one member before it is disconnected as too slow. */
export const MEMBER_QUEUE = 256;
/** The Redis pub/sub channel of the shared room when `--redis` is given without one. */
export const DEFAULT_CHAT_CHANNEL = 'rxnet:chat';

const NICK = /^[A-Za-z0-9_-]{1,20}$/;
const HELP = '* commands: /nick NAME, /who, /me ACTION, /quit, /help';

export interface ChatServerOptions {
  port: number;
  /** Bind address; all addresses when omitted (the seed binds 0.0.0.0). */
  host?: string;
  /** Milliseconds without a whole line after which a member is disconnected (default 5 min). */
  idle?: number;
  /** Longest line in bytes (default 1024); a longer one disconnects its sender. */
  maxLineLength?: number;
  /** Messages queued for a member that does not read before it is disconnected (default 256). */
  memberQueue?: number;
  log?: Log;
  listening?: (address: BoundAddress) => void;
  /** Graceful shutdown: members are told and ended, the server completes once all have closed. */
  shutdown?: ObservableInput<unknown> | AbortSignal;
  /** Milliseconds members get to close after shutdown before they are destroyed (default 5000). */
  gracePeriod?: number;
  /** Scheduler of the idle and grace timers (a TestScheduler in specs). */
  scheduler?: SchedulerLike;
  /** Figures of the server and its members; pass your own to read them while it runs. */
  metrics?: ServerMetrics;
  /** Hex-dump what members send (`wiretap`); by default as `RXNET_WIRETAP` says. */
  wiretap?: boolean;
  /**
   * Join the room shared by every chat server on this Redis: a URL (`redis://127.0.0.1:6379`,
   * channel `rxnet:chat`) or `redisBackplane` options. The backplane is built per subscription and
   * closed when the server ends. Members' lines cross servers; notices and nicknames stay local.
   */
  redis?: string | RedisBackplaneOptions;
  /** A backplane of your own (the caller closes it); `redis` wins when both are given. Neither: in-process. */
  backplane?: Backplane;
}

/** A text line as the bytes every member is sent. */
const line = (text: string) => Buffer.from(text + '\r\n', 'utf8');

/**
 * The chat server as one cold Observable: each subscription binds its own server and hub.
 *
 * Every line a member sends goes to every other member as `<nick> text` (the seed relays each
 * chunk to every other client; we relay whole lines, \n or \r\n, under a nickname). A member
 * starts as `guestN` and may say `/nick NAME`; `/who`, `/me`, `/quit` and `/help` too. Joins and
 * leaves are announced to the others. A member silent for `idle` ms, sending a line over
 * `maxLineLength`, or reading too slowly to keep `memberQueue` messages waiting, is disconnected
 * (told why, but for the slow one, which would not read it) while everyone else goes on.
 */
export function chatServer(options: ChatServerOptions): Observable<never> {
  const log = options.log ?? consoleLog;
  const idle = options.idle ?? DEFAULT_IDLE_MS;
  const maxLength = options.maxLineLength ?? MAX_LINE_BYTES;
  return defer(() => {
    const owned =
      options.redis === undefined
        ? undefined
        : redisBackplane(
            typeof options.redis === 'string'
              ? { url: options.redis, channel: DEFAULT_CHAT_CHANNEL }
              : { channel: DEFAULT_CHAT_CHANNEL, ...options.redis },
          );
    const backplane = owned ?? options.backplane;
    const hub = new Hub<Buffer>({
      highWaterMark: options.memberQueue ?? MEMBER_QUEUE,
      overflow: 'disconnect',
      backplane,
    });
    // What happens to the shared room: reached, degraded (lines queue), back, drops and gaps.
    const backplaneEvents = backplane?.events$.subscribe((event) => {
      const { type, ...details } = event;
      log(
        `backplane ${backplane.serverId}: ${type}${Object.keys(details).length ? ' ' + JSON.stringify(details) : ''}`,
      );
    });
    const metrics = options.metrics ?? serverMetrics();
    /** Nickname of each member, and why we are ending it (told to the others when it leaves). */
    const members = new Map<number, { nick: string; why?: string }>();
    let shuttingDown = false;

    const nickTaken = (nick: string) => [...members.values()].some((m) => m.nick.toLowerCase() === nick.toLowerCase());
    const bye = (conn: Connection, why: string, goodbye: string) => {
      const m = members.get(conn.id);
      if (m) m.why = why;
      hub.kick(conn.id, line(goodbye));
    };

    /** What one line from a member does: a command, or a message for the others. */
    const handle = (conn: Connection, text: string): Buffer[] => {
      const me = members.get(conn.id)!;
      if (text.length === 0) return [];
      if (!text.startsWith('/')) return [line(`<${me.nick}> ${text}`)];
      const [command, ...rest] = text.split(/\s+/);
      const arg = rest.join(' ');
      switch (command.toLowerCase()) {
        case '/nick':
          if (!NICK.test(arg)) hub.send(conn.id, line('* a nickname is 1 to 20 letters, digits, _ or -'));
          else if (nickTaken(arg)) hub.send(conn.id, line(`* ${arg} is taken`));
          else {
            hub.broadcast(line(`* ${me.nick} is now ${arg}`), conn.id);
            hub.send(conn.id, line(`* you are now ${arg}`));
            log(`${me.nick} is now ${arg}`);
            me.nick = arg;
          }
          return [];
        case '/who': {
          const nicks = [...members.values()].map((m) => m.nick);
          hub.send(conn.id, line(`* ${nicks.length} online: ${nicks.join(', ')}`));
          return [];
        }
        case '/me':
          return arg ? [line(`* ${me.nick} ${arg}`)] : [];
        case '/quit':
          bye(conn, 'quit', '* bye');
          return [];
        case '/help':
          hub.send(conn.id, line(HELP));
          return [];
        default:
          hub.send(conn.id, line(`* unknown command ${command}; /help lists them`));
          return [];
      }
    };

    const member = (conn: Connection): Observable<never> => {
      const meter = metrics.connection(conn);
      const peer = `${conn.remoteAddress}:${conn.remotePort}`;
      // Subscribed by the hub right after the member joined, so the welcome can be sent to it.
      const inbound = defer(() => {
        const nick = `guest${conn.id}`;
        members.set(conn.id, { nick });
        log(`${nick} joined from ${peer}`);
        hub.send(
          conn.id,
          line(`* welcome, ${nick}! ${members.size} online. /nick NAME to change your name, /help for more`),
        );
        hub.broadcast(line(`* ${nick} joined`), conn.id);
        return conn.data$.pipe(
          wiretap(conn, 'in', { enabled: options.wiretap }),
          decodeLines({ maxLength }),
          meter.countFramesIn(),
          idleTimeout(idle, { scheduler: options.scheduler }),
          map((bytes) => bytes.toString('utf8').trim()),
          mergeMap((text) => handle(conn, text)),
          catchError((error: unknown) => {
            if (error instanceof IdleTimeoutError) bye(conn, 'idle', `* idle for ${idle / 1000} s, disconnecting`);
            else if (error instanceof FrameTooLongError)
              bye(conn, 'line too long', `* line longer than ${maxLength} bytes, disconnecting`);
            else return throwError(() => error);
            return EMPTY;
          }),
        );
      });
      return hub.join(conn, inbound, { stats: meter.send });
    };

    const connections = listen({
      port: options.port,
      host: options.host,
      listening: (address) => {
        log(`chat server listening on ${JSON.stringify(address)}`);
        options.listening?.(address);
      },
      events: metrics.events,
      // A reader may join and never type: the first-byte deadline is for servers whose clients speak first.
      firstByteTimeout: 0,
      shutdown: options.shutdown,
      gracePeriod: options.gracePeriod ?? 5000,
      scheduler: options.scheduler,
      onShutdown: (conn) => {
        shuttingDown = true;
        bye(conn, 'shutdown', '* server shutting down, bye');
      },
    });

    // Leave notices follow the hub, whatever ended the member; they stop with the server.
    const notices = hub.events$.subscribe((event) => {
      if (event.type !== 'leave') return;
      const m = members.get(event.member.id);
      if (!m) return;
      members.delete(event.member.id);
      const why =
        m.why ?? (event.reason === 'slow' ? 'too slow' : event.reason === 'error' ? 'connection lost' : undefined);
      const notice = `${m.nick} left${why ? ` (${why})` : ''}`;
      log(notice);
      if (!shuttingDown) hub.broadcast(line(`* ${notice}`));
    });

    return connections.pipe(
      // A member's failure ends in the hub (a leave event); anything else ends that connection only.
      serveEach(member, {
        onError: (error: any, conn) =>
          log(`${members.get(conn.id)?.nick ?? `connection ${conn.id}`} failed: ${error.message}`),
      }),
      finalize(() => {
        notices.unsubscribe();
        backplaneEvents?.unsubscribe();
        // Our own Redis connections go with the server, so the process can exit.
        if (owned !== undefined)
          owned.close().then(
            () => log(`backplane ${owned.serverId}: closed`),
            (error: Error) => log(`backplane ${owned.serverId}: close failed: ${error.message}`),
          );
        const s = metrics.snapshot();
        log(`chat server closed: ${s.accepted} connection(s), ${s.framesIn} line(s) in, ${s.written} line(s) out`);
      }),
    );
  });
}

/**
 * `npm run demo -- chat [--port 1337] [--host H] [--idle MS] [--wiretap] [--redis URL [--channel NAME]]`:
 * with `--redis`, every chat server on that Redis (and channel) is one room. Ctrl-C shuts down
 * gracefully (the backplane is closed with the server), twice forces.
 */
export async function main(argv: string[]): Promise<void> {
  const { port, values } = demoArgs(argv, DEFAULT_CHAT_PORT, {
    host: { type: 'string' },
    idle: { type: 'string' },
    wiretap: { type: 'boolean' },
    redis: { type: 'string' },
    channel: { type: 'string' },
  });
  const redis = values.redis as string | undefined;
  if (redis !== undefined && !/^rediss?:\/\//.test(redis))
    throw new Error(`--redis must be a redis:// URL, got ${redis}`);
  if (values.channel !== undefined && redis === undefined) throw new Error('--channel needs --redis');
  const idle = values.idle === undefined ? DEFAULT_IDLE_MS : Number(values.idle);
  if (!Number.isInteger(idle) || idle < 1)
    throw new Error(`--idle must be a positive integer (ms), got ${String(values.idle)}`);
  const shutdown = new AbortController();
  const subscription = chatServer({
    port,
    host: values.host as string | undefined,
    idle,
    shutdown: shutdown.signal,
    wiretap: values.wiretap === true ? true : undefined,
    redis:
      redis === undefined ? undefined : { url: redis, channel: (values.channel as string) ?? DEFAULT_CHAT_CHANNEL },
  }).subscribe({
    error: (error) => {
      console.error('chat server error:', error.code ?? '', error.message);
      process.exitCode = 1;
    },
  });
  shutDownOnSignals(subscription, shutdown, 'shutting down: telling members goodbye (Ctrl-C again to force)');
}

if (require.main === module) void main(process.argv.slice(2));
