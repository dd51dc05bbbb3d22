import type Redis from 'ioredis';
import { silentLogger } from '../../src/logger';
import { createRedisGate, RedisUnavailable } from '../../src/redis';

/** A stand-in exposing only what the gate reads: the connection status. */
const fakeClient = (status: string) => ({ status }) as unknown as Redis;

describe('createRedisGate', () => {
  it('when the client is connected and the command succeeds, then its result is returned', async () => {
    const gate = createRedisGate(fakeClient('ready'), silentLogger);
    await expect(gate.run(async () => 'PONG')).resolves.toBe('PONG');
  });

  it('when the client is not connected, then it fails at once without running the command', async () => {
    const gate = createRedisGate(fakeClient('reconnecting'), silentLogger);
    const command = jest.fn(async () => 'x');
    await expect(gate.run(command)).rejects.toBeInstanceOf(RedisUnavailable);
    expect(command).not.toHaveBeenCalled();
  });

  it('when a command fails, then later commands are skipped until the cooldown has passed', async () => {
    // Why a fake clock: with the real one, a loaded machine that parks this process for the
    // cooldown between the failure and the next command would find the breaker closed again.
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const gate = createRedisGate(fakeClient('ready'), silentLogger, 200);
      await expect(gate.run(async () => Promise.reject(new Error('Command timed out')))).rejects.toThrow(
        'timed out',
      );
      const skipped = jest.fn(async () => 'x');
      jest.advanceTimersByTime(199);
      await expect(gate.run(skipped)).rejects.toBeInstanceOf(RedisUnavailable);
      expect(skipped).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      await expect(gate.run(async () => 'back')).resolves.toBe('back');
    } finally {
      jest.useRealTimers();
    }
  });
});
