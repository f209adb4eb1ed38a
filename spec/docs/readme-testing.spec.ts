// The example of README.md's "Testing your pipeline in virtual time", as it runs (README imports 'rxnet' and 'rxnet/testing').
import { map, merge } from 'rxjs';
import type { Observable } from 'rxjs';
import { endOnIdle, idleWatch, decodeLines, sendTo, serveEach } from '../../lib';
import type { Connection } from '../../lib';
import { asText, createTestScheduler, memoryServer } from '../../lib/testing';

/** The application: answers each line, and says goodbye to connections idle for 6 s. */
function app(conns$: Observable<Connection>): Observable<unknown> {
  return conns$.pipe(
    serveEach((conn) =>
      merge(
        conn.data$.pipe(
          decodeLines(),
          map((line) => `Sending: ${line}\n`),
          sendTo(conn), // stops by itself once the goodbye has ended the connection
        ),
        conn.events$.pipe(idleWatch({ allIdle: 6000 }), endOnIdle(conn, { goodbye: 'idle timeout..' })),
      ),
    ),
  );
}

it('answers each line, however it is cut, and says goodbye after 6 s of silence', () => {
  createTestScheduler().run(({ cold, expectObservable }) => {
    const server = memoryServer();
    app(server.listen()).subscribe(); // the same app that runs on listen({ port: 8108 })
    const client = server.connect();

    // The client types a line, then another in two pieces a second later, then goes quiet.
    cold('-a 999ms b-c', { a: 'More Axes\n', b: 'More ', c: 'Arrows\n' }).subscribe((text) => client.write(text));

    expectObservable(client.data$.pipe(asText())).toBe('-x 999ms --y 5999ms (z|)', {
      x: 'Sending: More Axes\n',
      y: 'Sending: More Arrows\n',
      z: 'idle timeout..',
    });
  });
});
