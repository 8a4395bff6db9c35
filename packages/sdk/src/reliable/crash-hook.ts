/**
 * Test seam for the crash tests (issue 4 proof): with `AEGIS_TEST_CRASH_AFTER_EFFECT=1` the process
 * SIGKILLs itself once the first delivery's effect is durable and before it is acknowledged.
 * Read per call so a test can set it in a child process only; inert otherwise.
 */
export function crashAfterEffect(deliveryCount: number): void {
  if (deliveryCount === 1 && process.env.AEGIS_TEST_CRASH_AFTER_EFFECT === '1') process.kill(process.pid, 'SIGKILL');
}
