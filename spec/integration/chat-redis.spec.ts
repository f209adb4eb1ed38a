// Two chat demo servers in this process, each with `redis` set, over a real redis-server on a free loopback port: one room.
import { ReplaySubject, filter, firstValueFrom } from 'rxjs';
import type { Subscription } from 'rxjs';
import { chatServer } from '../../demos/chat';
import { LineClient } from '../support/lineClient';
import { expectTcpHandlesBackTo, tcpHandleCount } from '../support/net';
import { findRedisServer, freePort, startRedis, type RunningRedis } from '../support/proxies';

const redisServer = findRedisServer();
// Without redis-server the test is registered as skipped (never passed) and the title says why.
const MISSING = 'redis-server is not installed (apt-get install redis-server)';
const describeWithRedis = redisServer === undefined ? describe.skip : describe;
const SETUP = redisServer ?? `skipped: ${MISSING}`;
if (redisServer === undefined) console.warn(`chat-redis spec skipped: ${MISSING}`);

interface Chat {
  port: number;
  subscription: Subscription;
  /** Every log line, replayed to late subscribers. */
  log: ReplaySubject<string>;
}

/** Starts a chat server on port 0 with `redis`; resolves once it listens and its backplane reached Redis. */
async function startChat(url: string, channel: string): Promise<Chat> {
  const log = new ReplaySubject<string>();
  const bound = new ReplaySubject<number>(1);
  const subscription = chatServer({
    port: 0,
    host: '127.0.0.1',
    log: (l) => log.next(l),
    listening: (a) => typeof a !== 'string' && bound.next(a.port),
    redis: { url, channel, backoff: { initialDelay: 20, maxDelay: 200 } },
  }).subscribe();
  const port = await firstValueFrom(bound);
  await firstValueFrom(log.pipe(filter((l) => /^backplane .*: connected$/.test(l))));
  return { port, subscription, log };
}

async function join(chat: Chat): Promise<{ client: LineClient; guest: string }> {
  const client = await LineClient.connect(chat.port);
  const welcome = await client.next(/^\* welcome, /);
  return { client, guest: /welcome, (guest\d+)!/.exec(welcome)![1] };
}

describeWithRedis(`chat demo with --redis: two servers are one room [${SETUP}]`, () => {
  it('a line said on one server reaches the member of the other exactly once, in order, and not its sender', async () => {
    const baseline = tcpHandleCount();
    let redis: RunningRedis | undefined;
    const chats: Chat[] = [];
    const clients: LineClient[] = [];
    try {
      // Defined here: without it, the describe is skipped.
      redis = await startRedis(redisServer!, await freePort());
      const channel = `rxnet:chat-spec:${process.pid}`;
      chats.push(await startChat(redis.url, channel), await startChat(redis.url, channel));
      const { client: alice, guest: aliceName } = await join(chats[0]);
      const { client: bob, guest: bobName } = await join(chats[1]);
      clients.push(alice, bob);

      alice.say('hello from server one');
      alice.say('and a second line');
      // Per-sender order: a duplicate of the first would arrive before the second.
      expect(await bob.next(/hello from server one/)).toBe(`<${aliceName}> hello from server one`);
      expect(await bob.next(/a second line/)).toBe(`<${aliceName}> and a second line`);
      expect(bob.lines.filter((l) => l.includes('hello from server one'))).toHaveLength(1);

      // Bob's answer was published after Alice's lines, so Redis would have echoed hers to her first.
      bob.say('hi back');
      expect(await alice.next(/hi back/)).toBe(`<${bobName}> hi back`);
      expect(alice.lines.filter((l) => l.includes('server one') || l.includes('second line'))).toEqual([]);
      expect(alice.lines.filter((l) => l.includes('hi back'))).toHaveLength(1);
    } finally {
      for (const c of clients) c.destroy();
      await Promise.all(clients.map((c) => c.closed));
      for (const chat of chats) chat.subscription.unsubscribe();
      // The servers close their own backplanes; wait for both Redis connections of each to go.
      await Promise.all(
        chats.map((chat) => firstValueFrom(chat.log.pipe(filter((l) => /^backplane .*: clos/.test(l))))),
      );
      await redis?.stop();
    }
    await expectTcpHandlesBackTo(baseline);
  }, 30_000);
});
