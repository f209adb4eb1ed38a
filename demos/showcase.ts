// `npm start`: the echo server and the three named clients in one process, then a clean exit.
import { ReplaySubject, firstValueFrom, mergeMap, take, takeUntil } from 'rxjs';
import { echoServer } from './echo-server';
import { namedClients } from './client';

export async function main(): Promise<void> {
  const bound = new ReplaySubject<number>(1);
  const stop = new ReplaySubject<void>(1);
  const server = echoServer({
    port: 0,
    host: '127.0.0.1',
    log: (line) => console.log('[server] ' + line),
    listening: (address) => typeof address !== 'string' && bound.next(address.port),
  })
    .pipe(takeUntil(stop))
    .subscribe({ error: (e) => bound.error(e) });
  try {
    const replies = await firstValueFrom(
      bound.pipe(
        take(1),
        mergeMap((port) => namedClients(port, '127.0.0.1', (line) => console.log('[client] ' + line))),
      ),
    );
    console.log('\nThe conversation:');
    for (const [name, reply] of Object.entries(replies)) console.log(`  ${name.padEnd(8)} <- ${reply}`);
  } finally {
    stop.next();
    server.unsubscribe();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
