/**
 * Idempotent "create or update" of JetStream streams and durable consumers, shared by the event
 * bus and exactly-once calls. Any number of processes may start at once: the first creates, the
 * others find the object (or lose the creation race) and update only the settings the code
 * owns, so a changed option is applied by the next start instead of being silently ignored.
 */
import type { ConsumerConfig, JetStreamManager, StreamConfig } from '@nats-io/jetstream';

/** Creates `config.name`, or updates it when it exists. (Retention cannot change on an existing stream.) */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  if (await createUnlessPresent(() => jsm.streams.info(config.name), () => jsm.streams.add(config))) return;
  await jsm.streams.update(config.name, config);
}

/**
 * Creates the durable consumer `name` on `stream` with `owned` plus `creationOnly` (settings that
 * cannot change later: ack policy, deliver policy, filter), or updates `owned` when it exists.
 */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  stream: string,
  name: string,
  owned: Partial<ConsumerConfig>,
  creationOnly: Partial<ConsumerConfig>,
): Promise<void> {
  const created = await createUnlessPresent(
    () => jsm.consumers.info(stream, name),
    () => jsm.consumers.add(stream, { ...owned, ...creationOnly, durable_name: name }),
  );
  if (!created) await jsm.consumers.update(stream, name, owned);
}

/** True when `add` created the object; false when it already existed (or another process won the race). */
async function createUnlessPresent(info: () => Promise<unknown>, add: () => Promise<unknown>): Promise<boolean> {
  try {
    await info();
    return false;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await add();
    return true;
  } catch (err) {
    if (!isAlreadyInUse(err)) throw err;
    return false;
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}

function isAlreadyInUse(err: unknown): boolean {
  return err instanceof Error && /already in use|already exists/i.test(err.message);
}
