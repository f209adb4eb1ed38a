// Node stream interop without a socket: fromReadable() as a holdable source, asDuplex() over the test kit's memory
// connections (in real time). A gzip stream through a real connection: spec/integration/streams.spec.ts.
import { PassThrough, Writable } from 'stream';
import { pipeline } from 'stream/promises';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { sendTo } from '../../lib/core/sendTo';
import { asDuplex, fromReadable } from '../../lib/core/streams';
import { connectionPair } from '../../lib/testing';

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString();

describe('fromReadable', () => {
  it('hands on the chunks as Buffers, strings encoded, and completes at the end', async () => {
    const stream = new PassThrough();
    stream.setEncoding('utf8');
    const source = fromReadable(stream);
    const chunks = lastValueFrom(source.data$.pipe(toArray()));
    stream.write('é');
    stream.end('!');
    const got = await chunks;
    expect(got.every((chunk) => Buffer.isBuffer(chunk))).toBe(true);
    expect(text(got)).toBe('é!');
  });

  it("errors with the stream's error", async () => {
    const stream = new PassThrough();
    const failure = new Error('disk gone');
    const result = firstValueFrom(fromReadable(stream).data$).catch((error) => error);
    stream.destroy(failure);
    expect(await result).toBe(failure);
  });

  it('reads only while subscribed and not held; each release counts once', () => {
    const stream = new PassThrough();
    const source = fromReadable(stream);
    const subscription = source.data$.subscribe();
    expect(stream.isPaused()).toBe(false);
    const release = source.holdReading();
    const other = source.holdReading();
    expect(stream.isPaused()).toBe(true);
    release();
    release();
    expect(stream.isPaused()).toBe(true); // the other hold is still there
    other();
    expect(stream.isPaused()).toBe(false);
    subscription.unsubscribe();
    expect(stream.isPaused()).toBe(true);
    expect(stream.listenerCount('data')).toBe(0);
  });
});

describe('asDuplex', () => {
  it('reads what the peer sends until its FIN, and writes to the connection, ending it when the writable side ends', async () => {
    const [client, server] = connectionPair();
    // The server echoes, and ends once the client has.
    server.data$.pipe(sendTo(server)).subscribe();
    const duplex = asDuplex(client);
    const received: Buffer[] = [];
    await Promise.all([
      pipeline(
        duplex,
        new Writable({
          write(chunk, _encoding, callback) {
            received.push(chunk);
            callback();
          },
        }),
      ),
      new Promise<void>((resolve) => duplex.end('over a duplex', () => resolve())),
    ]);
    expect(text(received)).toBe('over a duplex');
    expect(client.writeEnded).toBe(true);
  });

  it("holds the connection's reading while nobody reads the duplex, and lets go once it is read", async () => {
    const [client, server] = connectionPair();
    const log: string[] = [];
    const hold = client.holdReading.bind(client);
    client.holdReading = () => {
      log.push('hold');
      const release = hold();
      return () => {
        log.push('release');
        release();
      };
    };
    const duplex = asDuplex(client);
    duplex.pause();
    duplex.read(0); // starts reading the connection
    // More than the duplex's readable high-water mark (16 KiB), in 1 KiB chunks.
    for (let i = 0; i < 64; i++) server.write(Buffer.alloc(1024));
    while (log.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(log).toEqual(['hold']);
    let read = 0;
    duplex.on('data', (chunk: Buffer) => (read += chunk.length));
    duplex.resume();
    while (read < 64 * 1024) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(log.slice(0, 2)).toEqual(['hold', 'release']);
    duplex.destroy();
  });

  it('destroys the connection when the duplex is destroyed, with its error if it has one', async () => {
    const [client] = connectionPair();
    asDuplex(client).destroy();
    expect(client.writeEnded).toBe(true);
    await lastValueFrom(client.events$, { defaultValue: undefined });
    expect(client.closed).toBe(true);
    const [other] = connectionPair();
    const failure = new Error('gunzip failed');
    const duplex = asDuplex(other);
    duplex.on('error', () => undefined); // the duplex reports it too
    duplex.destroy(failure);
    await lastValueFrom(other.events$, { defaultValue: undefined });
    expect(other.closeReason).toBe(failure);
  });
});
