// A chat server process for multi-process specs: one Hub on a Redis backplane; prints "READY <port>" once it can relay, "SIZE <n>" as members come and go.
import { filter, firstValueFrom } from 'rxjs';
import { Hub } from '../../lib/hub/Hub';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { redisBackplane } from '../../lib/hub/redisBackplane';
import { listen } from '../../lib/core/listen';

const [url, channel, serverId] = process.argv.slice(2);
const backplane = redisBackplane({ url, channel, serverId, backoff: { initialDelay: 20, maxDelay: 200 } });
const hub = new Hub<Buffer>({ backplane });
hub.size$.subscribe((n) => process.stdout.write(`SIZE ${n}\n`));
const connected = backplane.connected
  ? Promise.resolve()
  : firstValueFrom(backplane.events$.pipe(filter((e) => e.type === 'connected')));
const subscription = listen({
  port: 0,
  host: '127.0.0.1',
  listening: (address) => {
    void connected.then(() => process.stdout.write(`READY ${typeof address === 'string' ? address : address.port}\n`));
  },
}).subscribe((conn) => hub.join(conn, conn.data$.pipe(decodeLines({ includeDelimiter: true }))).subscribe());

// The spec ends us with SIGKILL (a crash) or SIGTERM (an orderly stop).
process.once('SIGTERM', () => {
  subscription.unsubscribe();
  void backplane.close().then(() => process.exit(0));
});
