// IPv6 and unix sockets on both sides, AbortSignal. Node stream interop (gzip through a connection): streams.spec.ts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReplaySubject, catchError, firstValueFrom, lastValueFrom, mergeMap, of, toArray } from 'rxjs';
import { connect } from '../../lib/core/connect';
import { sendTo } from '../../lib/core/sendTo';
import { listen } from '../../lib/core/listen';
import type { ListenOptions } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';

async function serve(options: Partial<ListenOptions>, handle: (c: Connection) => import('rxjs').Observable<unknown>) {
  const bound = new ReplaySubject<string | number>(1);
  const subscription = listen({
    ...(options.path ? {} : { port: 0 }),
    ...options,
    listening: (a) => bound.next(typeof a === 'string' ? a : a.port),
  })
    .pipe(mergeMap(handle))
    .subscribe({ error: (e) => bound.error(e) });
  return { bound: await firstValueFrom(bound), subscription };
}

const echo = (conn: Connection) => conn.data$.pipe(sendTo(conn, { pauseSource: conn }));

describe('transports', () => {
  it('serves and connects over IPv6 loopback (::1)', async () => {
    const server = await serve({ host: '::1' }, echo);
    try {
      const got = await firstValueFrom(
        connect({ port: server.bound as number, host: '::1' }).pipe(
          mergeMap((conn) => {
            expect(conn.remoteFamily).toBe('IPv6');
            expect(conn.remoteAddress).toBe('::1');
            conn.end('over IPv6');
            return conn.data$.pipe(toArray());
          }),
        ),
      );
      expect(Buffer.concat(got).toString()).toBe('over IPv6');
    } finally {
      server.subscription.unsubscribe();
    }
  });

  it('serves and connects over a unix domain socket, and removes the socket file on unsubscribe', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-unix-'));
    const socketPath = path.join(dir, 's.sock');
    const server = await serve({ path: socketPath }, echo);
    try {
      expect(server.bound).toBe(socketPath);
      const got = await firstValueFrom(
        connect({ path: socketPath }).pipe(
          mergeMap((conn) => {
            conn.end('over a unix socket');
            return conn.data$.pipe(toArray());
          }),
        ),
      );
      expect(Buffer.concat(got).toString()).toBe('over a unix socket');
    } finally {
      server.subscription.unsubscribe();
    }
    // Node unlinks the socket file when the server closes.
    await new Promise((r) => setImmediate(r));
    expect(fs.existsSync(socketPath)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('AbortSignal', () => {
  it('errors connect with the abort reason when aborted before the connection is made', async () => {
    const controller = new AbortController();
    const result = firstValueFrom(connect({ port: 9, host: '127.0.0.1', signal: controller.signal })).catch((e) => e);
    controller.abort();
    const error = await result;
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('closes an established connection when aborted, and connect completes', async () => {
    const server = await serve({ host: '127.0.0.1' }, echo);
    try {
      const controller = new AbortController();
      const seen = await lastValueFrom(
        connect({ port: server.bound as number, host: '127.0.0.1', signal: controller.signal }).pipe(
          mergeMap((conn) => {
            controller.abort();
            return conn.data$.pipe(
              toArray(),
              catchError(() => of([])),
            );
          }),
          toArray(),
        ),
      );
      expect(seen).toEqual([[]]);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});
