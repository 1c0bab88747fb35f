import { TimeoutBudget } from '../../src/drill/budget.js';
import { ManualClock } from './manual-clock.js';

describe('TimeoutBudget', () => {
  it('charges only running time and expires once the total is used', async () => {
    const clock = new ManualClock();
    let expired = 0;
    const budget = new TimeoutBudget(clock, 10_000, () => (expired += 1));

    budget.resume();
    await clock.advance(4_000);
    budget.pause();
    await clock.advance(60_000);
    budget.resume();
    await clock.advance(5_999);

    expect(expired).toBe(0);
    expect(budget.elapsedMs()).toBe(9_999);

    await clock.advance(1);
    expect(expired).toBe(1);
    budget.resume();
    await clock.advance(60_000);
    expect(expired).toBe(1);
  });

  it('ignores repeated resume and pause calls', async () => {
    const clock = new ManualClock();
    let expired = 0;
    const budget = new TimeoutBudget(clock, 1_000, () => (expired += 1));

    budget.resume();
    budget.resume();
    await clock.advance(500);
    budget.pause();
    budget.pause();

    expect(budget.elapsedMs()).toBe(500);
    expect(clock.pending()).toBe(0);
  });

  it('never fires after cancel', async () => {
    const clock = new ManualClock();
    let expired = 0;
    const budget = new TimeoutBudget(clock, 1_000, () => (expired += 1));

    budget.resume();
    budget.cancel();
    await clock.advance(5_000);

    expect(expired).toBe(0);
  });
});
