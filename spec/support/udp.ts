// What this host's kernel lets UDP specs do on loopback, found once, synchronously, so a spec can skip (with the reason) what it cannot run.
import { spawnSync } from 'child_process';

/** Each capability: true, or the reason it is missing. */
export interface UdpLoopback {
  /** `::1` can be bound. */
  readonly ipv6: true | string;
  /** A second IPv4 loopback address (127.0.0.2) can be bound: another source address on this host. */
  readonly secondAddress: true | string;
  /** A datagram to 127.255.255.255 with SO_BROADCAST reaches a socket bound to 0.0.0.0. */
  readonly broadcast: true | string;
  /** A socket that joined 239.255.77.1 on 127.0.0.1, loopback on, hears its own datagram to the group. */
  readonly multicast: true | string;
  /** The same for a source-specific membership (232.77.0.1 from 127.0.0.1). */
  readonly sourceSpecific: true | string;
}

/** Each check in the child: resolves true or a reason, within a second. */
const PROBE = String.raw`
const dgram = require('dgram');
const within = (ms, run) => new Promise((resolve) => {
  const timer = setTimeout(() => resolve('nothing arrived within ' + ms + ' ms'), ms);
  run((result) => { clearTimeout(timer); resolve(result); });
});
const bindable = (type, address) => within(1000, (done) => {
  const s = dgram.createSocket(type);
  s.on('error', (e) => { s.close(); done('cannot bind ' + address + ': ' + e.code); });
  s.bind(0, address, () => { s.close(); done(true); });
});
/** Binds a receiver on 0.0.0.0, prepares it, sends 'probe' from a sender on 127.0.0.1 to host:port. */
const hears = (host, prepare) => within(1000, (done) => {
  const r = dgram.createSocket('udp4');
  const s = dgram.createSocket('udp4');
  const end = (result) => { r.close(); s.close(); done(result); };
  r.on('error', (e) => end('receiver: ' + e.code));
  s.on('error', (e) => end('sender: ' + e.code));
  r.on('message', () => end(true));
  r.bind(0, '0.0.0.0', () => {
    try { prepare.receiver(r); } catch (e) { return end(e.syscall + ' ' + e.code); }
    s.bind(0, '127.0.0.1', () => {
      try { prepare.sender(s); } catch (e) { return end(e.syscall + ' ' + e.code); }
      s.send('probe', r.address().port, host, (e) => e && end('send: ' + e.code));
    });
  });
});
const onLoopback = (s) => { s.setMulticastInterface('127.0.0.1'); s.setMulticastLoopback(true); };
(async () => {
  const result = {
    ipv6: await bindable('udp6', '::1'),
    secondAddress: await bindable('udp4', '127.0.0.2'),
    broadcast: await hears('127.255.255.255', { receiver: () => {}, sender: (s) => s.setBroadcast(true) }),
    multicast: await hears('239.255.77.1', {
      receiver: (r) => { onLoopback(r); r.addMembership('239.255.77.1', '127.0.0.1'); },
      sender: onLoopback,
    }),
    sourceSpecific: await hears('232.77.0.1', {
      receiver: (r) => { onLoopback(r); r.addSourceSpecificMembership('127.0.0.1', '232.77.0.1', '127.0.0.1'); },
      sender: onLoopback,
    }),
  };
  process.stdout.write(JSON.stringify(result));
})();
`;

/** Runs the checks in a child process (a few ms when all succeed, about a second for each that waits in vain). */
export function probeUdpLoopback(): UdpLoopback {
  const child = spawnSync(process.execPath, ['-e', PROBE], { encoding: 'utf8', timeout: 15_000 });
  if (child.status !== 0 || child.stdout === '') {
    const reason = `the UDP probe failed: ${child.error?.message ?? child.stderr.trim()}`;
    return { ipv6: reason, secondAddress: reason, broadcast: reason, multicast: reason, sourceSpecific: reason };
  }
  return JSON.parse(child.stdout) as UdpLoopback;
}

/** UDP handles open in this process now. */
export function udpHandleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('UDP')).length;
}

/** Waits (libuv frees a closed handle a turn or two after close) until no more UDP handles are open than at `baseline`. */
export async function expectUdpHandlesBackTo(baseline: number): Promise<void> {
  // Bounded: event-loop turns first, then short waits up to 2 s on a loaded machine, then judged.
  const deadline = performance.now() + 2000;
  for (let i = 0; udpHandleCount() > baseline && performance.now() < deadline; i++) {
    await new Promise((resolve) => (i < 100 ? setImmediate(resolve) : setTimeout(resolve, 5)));
  }
  expect(udpHandleCount()).toBeLessThanOrEqual(baseline);
}
