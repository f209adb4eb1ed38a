// respClient, respServer and decodeResp: the codecs through decodeWith/encodeWith, errors as values, limits as error notifications.
import { firstValueFrom, from, map, of, take, toArray } from 'rxjs';
import { decodeWith, encodeWith } from '../../../lib/codec/Codec';
import { decodeResp, respClient, respServer } from '../../../lib/codec/resp/resp';
import { RespError, RespPush, type RespCommand, type RespValue } from '../../../lib/codec/resp/RespValue';
import { EncodeError, RespLimitError, TruncatedFrameError } from '../../../lib/errors';
import { sendTo } from '../../../lib/core/sendTo';
import { connectionPair } from '../../../lib/testing';
import { errorData, expectInvalidArgument, run, runObservable } from '../../support/framing';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('decodeResp', () => {
  it('emits each reply as it completes, error replies as values, and completes with the source', () => {
    const result = run(decodeResp(), [b('+OK\r\n:4'), b('2\r\n$-1\r\n-ERR x\r\n>2\r\n+a\r\n'), b('+b\r\n')]);
    expect(result).toStrictEqual({
      values: ['OK', 42, null, new RespError('ERR x'), new RespPush(['a', 'b'])],
      completed: true,
    });
  });

  it('ends with RespLimitError when a reply announces more than a limit, before its body comes', () => {
    const result = run(decodeResp({ maxBulkLength: 10 }), [b('+OK\r\n$11\r\n')]);
    expect(result.values).toEqual(['OK']);
    expect(errorData(result.error)).toEqual({
      name: 'RespLimitError',
      code: 'ERR_RESP_LIMIT',
      what: 'bulk',
      limit: 10,
      announced: 11,
    });
  });

  it('ends with TruncatedFrameError when the source completes inside a reply', () => {
    expect(run(decodeResp(), [b('*2\r\n:1\r\n')]).error).toBeInstanceOf(TruncatedFrameError);
  });

  it('checks its options when created, not when subscribed', () => {
    expectInvalidArgument(() => decodeResp({ maxAggregateLength: -2 }), 'maxAggregateLength');
    expectInvalidArgument(() => decodeResp(null as unknown as object), 'config');
  });
});

describe('respClient', () => {
  it('encodes commands as arrays of bulk strings and decodes replies', () => {
    const client = respClient();
    const sent = runObservable(
      from<RespCommand[]>([
        ['SET', 'k', 'v'],
        ['GET', 'k'],
      ]).pipe(encodeWith(client)),
    );
    expect(sent.values.map((c) => Buffer.from(c as Uint8Array).toString())).toEqual([
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n',
      '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n',
    ]);
    expect(run(decodeWith(client), [b('+OK\r\n$1\r\nv\r\n')]).values).toStrictEqual(['OK', b('v')]);
  });

  it('makes an error notification of a command it cannot encode', () => {
    const sent = runObservable(from<RespCommand[]>([[]]).pipe(encodeWith(respClient())));
    expect(sent.error).toBeInstanceOf(EncodeError);
  });

  it('gives each subscription a decoder of its own', () => {
    const decode = decodeWith(respClient());
    expect(run(decode, [b('*2\r\n:1\r\n')]).error).toBeInstanceOf(TruncatedFrameError);
    expect(run(decode, [b(':2\r\n')]).values).toEqual([2]);
  });
});

describe('respServer', () => {
  it('decodes commands, inline ones included, as redis-server does', () => {
    const server = respServer();
    const chunks = [b('PING\r\n*2\r\n$4\r\nECHO\r\n$2\r'), b('\nhi\r\n*0\r\nSET  a  1\r\n')];
    expect(run(decodeWith(server), chunks).values).toStrictEqual([
      [b('PING')],
      [b('ECHO'), b('hi')],
      [b('SET'), b('a'), b('1')],
    ]);
  });

  it('refuses inline commands with inline: false', () => {
    expect(errorData(run(decodeWith(respServer({ inline: false })), [b('PING\r\n')]).error)).toMatchObject({
      name: 'RespProtocolError',
      offset: 0,
    });
  });

  it('ends with RespLimitError for an inline line over maxInlineLength', () => {
    const result = run(decodeWith(respServer({ maxInlineLength: 8 })), [b('GET aaaaaaaaaa')]);
    expect(result.error).toBeInstanceOf(RespLimitError);
  });

  it('encodes replies in RESP2 by default and RESP3 with version: 3', () => {
    const replies: RespValue[] = ['PONG', null, true, new Map([['k', 1.5]])];
    const encode = (version?: 2 | 3) =>
      runObservable(of(...replies).pipe(encodeWith(respServer({ version })))).values.map((c) =>
        Buffer.from(c as Uint8Array).toString(),
      );
    expect(encode()).toEqual(['+PONG\r\n', '$-1\r\n', ':1\r\n', '*2\r\n+k\r\n$3\r\n1.5\r\n']);
    expect(encode(3)).toEqual(['+PONG\r\n', '_\r\n', '#t\r\n', '%1\r\n+k\r\n,1.5\r\n']);
  });

  it('checks its options when created', () => {
    expectInvalidArgument(() => respServer({ version: 1 as 2 }), 'version');
    expectInvalidArgument(() => respServer({ maxDepth: -1 }), 'maxDepth');
  });
});

describe('respClient and respServer together', () => {
  it('carry commands and replies over a connection delivering one byte at a time', async () => {
    const [clientSide, serverSide] = connectionPair({ chunking: 1 });
    const server = respServer({ version: 3 });
    const reply = (command: RespValue[]): RespValue => {
      const name = String(command[0]).toUpperCase();
      if (name === 'PING') return 'PONG';
      if (name === 'ECHO') return command[1];
      return new RespError(`ERR unknown command '${name}'`);
    };
    serverSide.data$.pipe(decodeWith(server), map(reply), encodeWith(server), sendTo(serverSide)).subscribe();
    const client = respClient();
    const replies = firstValueFrom(clientSide.data$.pipe(decodeWith(client), take(3), toArray()));
    from<RespCommand[]>([['PING'], ['ECHO', Buffer.from('a\r\nb')], ['NOPE']])
      .pipe(encodeWith(client), sendTo(clientSide, { end: false }))
      .subscribe();
    expect(await replies).toStrictEqual(['PONG', Buffer.from('a\r\nb'), new RespError("ERR unknown command 'NOPE'")]);
    clientSide.destroy();
  });
});
