// The example of docs/testing.md: a framed service tested in virtual time on the in-memory kit.
import { catchError, map, of, throwError, type Observable } from 'rxjs';
import { FrameTooLongError, encodeLengthField, decodeLengthField, sendTo, serveEach, type Connection } from '../../lib';
import { asHex, asText, bytes, createTestScheduler, memoryServer } from '../../lib/testing';

/** The service: [uint16 BE length][payload] frames in and out, each payload answered upper-cased. */
function upperService(conn: Connection): Observable<never> {
  return conn.data$.pipe(
    decodeLengthField({ lengthFieldLength: 2, initialBytesToStrip: 2, maxFrameLength: 64 }),
    map((payload) => payload.toString('utf8').toUpperCase()),
    // A frame announced too long gets one last answer; sendTo then flushes it and ends this connection.
    catchError((error) =>
      error instanceof FrameTooLongError ? of(`too long (max ${error.limit})`) : throwError(() => error),
    ),
    encodeLengthField({ lengthFieldLength: 2 }),
    sendTo(conn, { pauseSource: conn }),
  );
}

const values = bytes({ a: '0002', b: '6869', c: '0003616263', z: '00ff' }, 'hex'); // [00 02]'hi', [00 03]'abc', [00 ff]

it('answers each frame when its last byte arrives, however the bytes are cut', () => {
  createTestScheduler().run(({ cold, expectObservable }) => {
    const server = memoryServer();
    server.listen().pipe(serveEach(upperService)).subscribe(); // as on listen({ port })
    const client = server.connect({ latency: 1 }); // 1 ms on the wire each way
    client.outbound.chunking = 1; // what the client writes arrives one byte per chunk

    cold('a--b--c|', values).subscribe((chunk) => client.write(chunk));

    expectObservable(client.data$.pipe(asHex())).toBe('-----x--y', { x: '00024849', y: '0003414243' });
  });
});

it('answers a frame announced too long, then ends that connection only', () => {
  createTestScheduler().run(({ cold, expectObservable }) => {
    const server = memoryServer();
    server.listen().pipe(serveEach(upperService)).subscribe();
    const bad = server.connect();
    const good = server.connect();

    cold('z', values).subscribe((chunk) => bad.write(chunk));
    cold('--c', values).subscribe((chunk) => good.write(chunk));

    const framesOf = (conn: Connection) =>
      conn.data$.pipe(
        decodeLengthField({ lengthFieldLength: 2, initialBytesToStrip: 2, maxFrameLength: 64 }),
        asText(),
      );
    expectObservable(framesOf(bad)).toBe('(x|)', { x: 'too long (max 64)' });
    expectObservable(framesOf(good)).toBe('--y', { y: 'ABC' });
  });
});
