/**
 * Event naming convention (SPEC OB-6):
 * `<Domain>.<AggregateRoot>[.<OptionalSubAggregate>].<ActionInPastTense>`, where the last token
 * ends with an action from a fixed verb list — `Genesis.Session.ConceptGenerationRequested`,
 * `Genesis.Session.Stage.Confirmed`.
 */
import { AegisError } from '@aegis-ipc/protocol';

/** The past-tense actions an event name may end with (OB-6). */
export const EVENT_ACTIONS = [
  'Requested',
  'Created',
  'Proposed',
  'Submitted',
  'Confirmed',
  'Updated',
  'Revised',
  'Completed',
  'Finished',
  'Failed',
] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

const TOKEN = /^[A-Z][A-Za-z0-9]{0,63}$/;

/** Why `name` breaks the convention, or undefined when it follows it. */
export function eventNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  const tokens = name.split('.');
  if (tokens.length < 3 || tokens.length > 4) {
    return 'must have 3 or 4 dot-separated parts: <Domain>.<AggregateRoot>[.<SubAggregate>].<Action>';
  }
  const bad = tokens.find((t) => !TOKEN.test(t));
  if (bad !== undefined) return `part "${bad.slice(0, 64)}" must be PascalCase letters and digits (at most 64)`;
  const last = tokens.at(-1) ?? '';
  if (!EVENT_ACTIONS.some((action) => last.endsWith(action))) {
    return `must end with one of ${EVENT_ACTIONS.join(', ')}`;
  }
  return undefined;
}

/**
 * Asserts that `name` follows the OB-6 convention.
 * @throws AegisError `EVENT_NAME_INVALID` with `{ event_type, rule }`.
 */
export function assertEventName(name: unknown): asserts name is string {
  const problem = eventNameProblem(name);
  if (problem !== undefined) {
    throw new AegisError('EVENT_NAME_INVALID', `event type ${JSON.stringify(String(name).slice(0, 100))} ${problem}`, {
      details: { event_type: String(name).slice(0, 200), rule: problem },
    });
  }
}
