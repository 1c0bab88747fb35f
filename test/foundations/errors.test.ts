import {
  InvalidRequestError,
  DrillFailedError,
  isOomtestError,
  toOomtestError,
} from '../../src/errors.js';

describe('errors', () => {
  it('recognises an error that came back through JSON by its name and code', () => {
    const original = new DrillFailedError('drill.timeout', 'no OOM kill within 3m');
    const revived = toOomtestError(JSON.parse(JSON.stringify(original)));

    expect(isOomtestError(revived)).toBe(true);
    expect(revived.code).toBe('drill.timeout');
    expect(revived.name).toBe('DrillFailedError');
    expect(revived.message).toBe('no OOM kill within 3m');
  });

  it('hides the text of unknown errors behind a generic message', () => {
    const wrapped = toOomtestError(new Error('connect ECONNREFUSED 10.0.0.1 token=xoxb-secret'));

    expect(wrapped.code).toBe('internal');
    expect(wrapped.message).not.toContain('xoxb');
  });

  it('marks bad input as permanent', () => {
    expect(new InvalidRequestError('bad').transient).toBe(false);
  });
});
