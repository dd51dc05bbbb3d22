import { LOG_LEVELS } from '../../app/src/config/contract';
import { LogLevel } from '../../charts/api/log-level';

/*
 * MemoApi's logLevel is an enum (jsii has no string unions); its values must be exactly the
 * levels the service accepts, or the construct offers a level the service refuses at start.
 */
describe('LogLevel', () => {
  test('when its values are compared with the service LOG_LEVELS, then each has every value of the other', () => {
    const values: string[] = Object.values(LogLevel);
    expect([...values].sort()).toEqual([...LOG_LEVELS].sort());
    expect(LOG_LEVELS.filter((level) => !values.includes(level))).toEqual([]);
    expect(values.filter((value) => !(LOG_LEVELS as readonly string[]).includes(value))).toEqual([]);
  });

  test('when a member is read, then its name is its value in upper case', () => {
    expect(Object.entries(LogLevel).filter(([name, value]) => name !== value.toUpperCase())).toEqual([]);
  });
});
