// The UdpSocket contract: the refusals a bindUdp socket and a MemoryDatagramNetwork socket must both give, alike, so
// the test kit cannot drift from the real socket. spec/testing/udpContract.spec.ts runs it on memory,
// spec/integration/udpContract.spec.ts on real sockets.
import { Buffer } from 'buffer';
import { constants } from 'os';
import type { Observable, Subscription } from 'rxjs';
import { InvalidArgumentError } from '../../lib/errors';
import type { DatagramTarget, UdpSocket } from '../../lib/types';

/** What the contract binds: the options bindUdp and MemoryDatagramNetwork.bind both take. */
export interface ContractBindOptions {
  readonly type: 'udp4' | 'udp6';
  readonly address: string;
  readonly connect?: DatagramTarget;
}

/** A family to run the contract in, with the loopback address of that family; `skip` gives the reason it cannot run. */
export interface ContractFamily {
  readonly type: 'udp4' | 'udp6';
  readonly host: string;
  readonly skip?: string;
}

const FAMILIES = [
  { type: 'udp4' as const, host: '127.0.0.1', other: '::1', largest: 65_507 },
  { type: 'udp6' as const, host: '::1', other: '127.0.0.1', largest: 65_527 },
];

/** A refusal as the contract compares it: the UdpSendError's name and reason, and its cause's class, code and syscall. */
function refusal(error: unknown): unknown {
  // Duck-typed: Node's own errors come from another realm than the spec's `Error`.
  if (typeof error !== 'object' || error === null) return error;
  const { name, reason, cause } = error as Error & { reason?: string; cause?: NodeJS.ErrnoException };
  return {
    name,
    reason,
    cause: cause && { name: cause.name, code: cause.code, syscall: cause.syscall },
  };
}

/** A bind error as the contract compares it: Node's fields and message. */
function bindError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const { message, code, errno, syscall, address, port } = error as NodeJS.ErrnoException & {
    address?: string;
    port?: number;
  };
  return { message, code, errno, syscall, address, port };
}

/**
 * Defines the contract's specs for the sockets `bind` opens (a cold Observable of one socket per
 * subscription, as bindUdp is), in each family that can run here.
 */
export function udpContract(
  name: string,
  bind: (options: ContractBindOptions) => Observable<UdpSocket>,
  skip: { readonly udp6?: string } = {},
): void {
  for (const { type, host, other, largest } of FAMILIES) {
    const reason = type === 'udp6' ? skip.udp6 : undefined;
    const suite = reason === undefined ? describe : describe.skip;
    if (reason !== undefined) console.warn(`UdpSocket contract on ${name}: ${type} skipped: ${reason}`);

    suite(`UdpSocket contract on ${name} (${type} on ${host})`, () => {
      const open: Subscription[] = [];
      afterEach(() => {
        for (const subscription of open.splice(0)) subscription.unsubscribe();
      });

      /** Binds and resolves with the socket once emitted; rejects with the bind error. */
      const bound = (options: Omit<ContractBindOptions, 'type' | 'address'> = {}): Promise<UdpSocket> =>
        new Promise((resolve, reject) => {
          open.push(bind({ type, address: host, ...options }).subscribe({ next: resolve, error: reject }));
        });
      /** The socket's own address: a target that exists in both worlds. */
      const self = (socket: UdpSocket): DatagramTarget => ({ address: host, port: socket.local.port });

      it('rejects a send without a target on an unconnected socket with ERR_SOCKET_DGRAM_NOT_CONNECTED, counted', async () => {
        const socket = await bound();
        const error = await socket.send('x').catch((e: unknown) => e);
        expect(refusal(error)).toEqual({
          name: 'UdpSendError',
          reason: 'ERR_SOCKET_DGRAM_NOT_CONNECTED',
          cause: { name: 'Error', code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED', syscall: undefined },
        });
        expect(socket.stats).toMatchObject({ sent: 0, sendFailed: 1 });
      });

      it('rejects a target given to a connected socket with ERR_SOCKET_DGRAM_IS_CONNECTED', async () => {
        const peer = await bound();
        const socket = await bound({ connect: self(peer) });
        expect(socket.remote).toEqual(self(peer));
        const error = await socket.send('x', self(peer)).catch((e: unknown) => e);
        expect(refusal(error)).toEqual({
          name: 'UdpSendError',
          reason: 'ERR_SOCKET_DGRAM_IS_CONNECTED',
          cause: { name: 'Error', code: 'ERR_SOCKET_DGRAM_IS_CONNECTED', syscall: undefined },
        });
        await expect(socket.send('to the peer')).resolves.toBe(11);
      });

      it('rejects a port outside [1, 65535], or a target that is none, with ERR_SOCKET_BAD_PORT', async () => {
        const socket = await bound();
        const targets = [
          { address: host, port: 0 },
          { address: host, port: 65_536 },
          null as unknown as DatagramTarget,
        ];
        const errors = await Promise.all(targets.map((t) => socket.send('x', t).catch((e: unknown) => e)));
        const badPort = {
          name: 'UdpSendError',
          reason: 'ERR_SOCKET_BAD_PORT',
          cause: { name: 'RangeError', code: 'ERR_SOCKET_BAD_PORT', syscall: undefined },
        };
        expect(errors.map(refusal)).toEqual([badPort, badPort, badPort]);
        expect(socket.stats).toMatchObject({ sent: 0, sendFailed: 3 });
      });

      it('rejects an address that is no string with ERR_INVALID_ARG_TYPE', async () => {
        const socket = await bound();
        const error = await socket.send('x', { address: 7, port: 9 } as never).catch((e: unknown) => e);
        expect(refusal(error)).toMatchObject({
          reason: 'ERR_INVALID_ARG_TYPE',
          cause: { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' },
        });
      });

      it(`rejects an address of the other family (${other}) with EINVAL`, async () => {
        const socket = await bound();
        const error = await socket.send('x', { address: other, port: 9 }).catch((e: unknown) => e);
        expect(refusal(error)).toEqual({
          name: 'UdpSendError',
          reason: 'EINVAL',
          cause: { name: 'Error', code: 'EINVAL', syscall: 'send' },
        });
      });

      it(`sends ${largest} B, the most a ${type} datagram holds, and rejects one byte more with EMSGSIZE`, async () => {
        const socket = await bound();
        await expect(socket.send(Buffer.alloc(largest), self(socket))).resolves.toBe(largest);
        const error = await socket.send(Buffer.alloc(largest + 1), self(socket)).catch((e: unknown) => e);
        expect(refusal(error)).toEqual({
          name: 'UdpSendError',
          reason: 'EMSGSIZE',
          cause: { name: 'Error', code: 'EMSGSIZE', syscall: 'send' },
        });
        expect(socket.stats).toMatchObject({ sent: 1, sentBytes: largest, sendFailed: 1 });
      });

      it('rejects data that is no bytes with InvalidArgumentError, uncounted', async () => {
        const socket = await bound();
        await expect(socket.send(42 as never, self(socket))).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(socket.stats.sendFailed).toBe(0);
      });

      it("rejects a send after close with reason 'closed', uncounted", async () => {
        const socket = await bound();
        open.splice(0).forEach((s) => s.unsubscribe());
        expect(socket.closed).toBe(true);
        const error = await socket.send('late', self(socket)).catch((e: unknown) => e);
        expect(refusal(error)).toEqual({ name: 'UdpSendError', reason: 'closed', cause: undefined });
        expect(socket.stats.sendFailed).toBe(0);
      });

      it(`fails the bind with Node's EINVAL (syscall connect) for a connect target of the other family`, async () => {
        const error = await bound({ connect: { address: other, port: 9 } }).catch((e: unknown) => e);
        expect(bindError(error)).toEqual({
          message: `connect EINVAL ${other}:9`,
          code: 'EINVAL',
          errno: -constants.errno.EINVAL,
          syscall: 'connect',
          address: other,
          port: 9,
        });
      });

      it(`fails the bind with Node's EINVAL (syscall bind) for a local address of the other family`, async () => {
        const error = await new Promise((resolve) => {
          open.push(bind({ type, address: other }).subscribe({ error: resolve }));
        });
        expect(bindError(error)).toEqual({
          message: `bind EINVAL ${other}`,
          code: 'EINVAL',
          errno: -constants.errno.EINVAL,
          syscall: 'bind',
          address: other,
          port: undefined,
        });
      });
    });
  }
}
