// The Connection contract (spec/support/connectionContract.ts) on an in-memory pair; its socket half is in spec/integration.
import { connectionPair } from '../../lib/testing';
import { connectionContract, type Pair } from '../support/connectionContract';

/** An in-memory pair on the real asyncScheduler. */
async function memoryPair(): Promise<Pair> {
  const [a, b] = connectionPair();
  return { a, b, teardown: () => (a.destroy(), b.destroy()) };
}

connectionContract('an in-memory pair', memoryPair);
