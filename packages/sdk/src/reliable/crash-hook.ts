/**
 * Test seam for the crash tests (issue 4 proof): with `AEGIS_TEST_CRASH_AFTER_EFFECT=1` the process
 * SIGKILLs itself once the first delivery's effect is durable and before it is acknowledged.
 * Read once at load (tests set it in the environment of a child process only); inert otherwise.
 */
const CRASH_AFTER_EFFECT = process.env.AEGIS_TEST_CRASH_AFTER_EFFECT === '1';

export function crashAfterEffect(deliveryCount: number): void {
  if (CRASH_AFTER_EFFECT && deliveryCount === 1) process.kill(process.pid, 'SIGKILL');
}
