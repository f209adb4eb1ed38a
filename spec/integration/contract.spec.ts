// The Connection contract (spec/support/connectionContract.ts) on a real loopback socket pair; its memory half is in spec/testing.
import { ReplaySubject, Subscription, firstValueFrom } from 'rxjs';
import { connect } from '../../lib/core/connect';
import { listen } from '../../lib/core/listen';
import type { Connection } from '../../lib/types';
import { connectionContract, type Pair } from '../support/connectionContract';

/** A client connection (a) and the server's side of it (b), over 127.0.0.1. */
async function socketPair(): Promise<Pair> {
  const port = new ReplaySubject<number>(1);
  const accepted = new ReplaySubject<Connection>(1);
  const subscriptions = new Subscription();
  subscriptions.add(
    listen({
      port: 0,
      host: '127.0.0.1',
      listening: (address) => typeof address !== 'string' && port.next(address.port),
    }).subscribe(accepted),
  );
  const clientSide = new ReplaySubject<Connection>(1);
  subscriptions.add(connect({ port: await firstValueFrom(port), host: '127.0.0.1' }).subscribe(clientSide));
  const [a, b] = await Promise.all([firstValueFrom(clientSide), firstValueFrom(accepted)]);
  return { a, b, teardown: () => subscriptions.unsubscribe() };
}

connectionContract('a loopback socket pair', socketPair);
