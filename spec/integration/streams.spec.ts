// asDuplex() over a real loopback connection: a gzip stream piped through it and back, with backpressure both ways.
// fromReadable() and asDuplex() on memory connections: spec/core/streams.spec.ts.
import { createHash, randomBytes } from 'crypto';
import { Readable, Writable } from 'stream';
import { pipeline } from 'stream/promises';
import { createGunzip, createGzip } from 'zlib';
import { firstValueFrom, mergeMap } from 'rxjs';
import { connect } from '../../lib/core/connect';
import { sendTo } from '../../lib/core/sendTo';
import { asDuplex } from '../../lib/core/streams';
import type { Connection } from '../../lib/types';
import { startServer } from '../support/net';

const echo = (conn: Connection) => conn.data$.pipe(sendTo(conn, { pauseSource: conn }));

describe('Node stream interop', () => {
  it('pipes a 16 MiB gzip stream through a connection and back with an intact SHA-256', async () => {
    const server = await startServer(echo);
    try {
      const original = randomBytes(16 * 1024 * 1024);
      const expected = createHash('sha256').update(original).digest('hex');
      const digest = await firstValueFrom(
        connect({ port: server.port, host: '127.0.0.1' }).pipe(
          mergeMap(async (conn) => {
            const duplex = asDuplex(conn);
            const hash = createHash('sha256');
            const chunks = Array.from({ length: 256 }, (_, i) => original.subarray(i * 65536, (i + 1) * 65536));
            // Upload: chunks -> gzip -> connection; download: connection -> gunzip -> hash.
            await Promise.all([
              pipeline(Readable.from(chunks), createGzip({ level: 1 }), duplex),
              pipeline(
                duplex,
                createGunzip(),
                new Writable({
                  write(chunk, _e, cb) {
                    hash.update(chunk);
                    cb();
                  },
                }),
              ),
            ]);
            return hash.digest('hex');
          }),
        ),
      );
      expect(digest).toBe(expected);
    } finally {
      server.subscription.unsubscribe();
    }
  });
});
