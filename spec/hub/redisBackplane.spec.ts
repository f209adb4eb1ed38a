// redisBackplane(): its options are checked when it is created; against a real redis-server: spec/integration/redisBackplane.spec.ts.
import { InvalidArgumentError } from '../../lib/errors';
import { redisBackplane } from '../../lib/hub/redisBackplane';

describe('redisBackplane', () => {
  it('checks its options when created', () => {
    expect(() => redisBackplane({ highWaterMark: 0 })).toThrow(InvalidArgumentError);
    expect(() => redisBackplane({ overflow: 'disconnect' as never })).toThrow(InvalidArgumentError);
  });

  it('refuses a serverId of no or more than 255 bytes and an empty channel, before connecting', () => {
    for (const [argument, options] of [
      ['serverId', { serverId: '' }],
      ['serverId', { serverId: 'é'.repeat(128) }],
      ['channel', { channel: '' }],
    ] as const) {
      expect(() => redisBackplane(options)).toThrow(
        expect.objectContaining({ name: 'InvalidArgumentError', argument }),
      );
    }
  });
});
