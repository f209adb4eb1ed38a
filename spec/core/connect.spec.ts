// connect(): arguments are checked when it is called (connecting is covered by spec/integration).
import { connect } from '../../lib/core/connect';
import { InvalidArgumentError } from '../../lib/errors';

describe('connect arguments', () => {
  it('rejects a missing or out-of-range port when created, not when subscribed', () => {
    expect(() => connect({ host: '127.0.0.1' })).toThrow(InvalidArgumentError);
    expect(() => connect({ port: 70000 })).toThrow(expect.objectContaining({ argument: 'port' }));
    expect(() => connect({ port: 80, timeout: 0 })).toThrow(expect.objectContaining({ argument: 'timeout' }));
  });
});
