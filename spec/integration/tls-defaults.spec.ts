// listen({ tls }) hands Node a 10 s handshake deadline unless told otherwise (Node's own default is 120 s).
import type * as tls from 'tls';
import { listen } from '../../lib/core/listen';
import { makeTestCerts } from '../support/certs';

const mockCreated: tls.TlsOptions[] = [];
jest.mock('tls', () => {
  const actual = jest.requireActual<typeof tls>('tls');
  return {
    ...actual,
    createServer: (options: tls.TlsOptions) => {
      mockCreated.push(options);
      return actual.createServer(options);
    },
  };
});

const certs = makeTestCerts();

describe('listen({ tls }) handshake deadline', () => {
  beforeEach(() => (mockCreated.length = 0));

  it('is 10 s by default', () => {
    listen({ port: 0, host: '127.0.0.1', tls: { key: certs.key, cert: certs.cert } })
      .subscribe()
      .unsubscribe();
    expect(mockCreated.map((o) => o.handshakeTimeout)).toEqual([10_000]);
  });

  it('is the one the options give', () => {
    listen({ port: 0, host: '127.0.0.1', tls: { key: certs.key, cert: certs.cert, handshakeTimeout: 2500 } })
      .subscribe()
      .unsubscribe();
    expect(mockCreated.map((o) => o.handshakeTimeout)).toEqual([2500]);
  });
});
