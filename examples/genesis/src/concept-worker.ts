/**
 * Stands in for the AI agent of the seed story: on `Genesis.Session.ConceptGenerationRequested`
 * it "generates" concepts and finishes the accepted command with
 * `Genesis.Session.ConceptsProposed` — through the outbox again, so the SSE client sees it.
 */
import type { DomainEvent, OutboxWriter } from '@aegis-ipc/outbox';
import { isAegisError } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import { AGGREGATE_TYPE } from './genesis-commands.js';
import type { ProgressHub } from './progress-hub.js';

export function startConceptWorker(hub: ProgressHub, writer: OutboxWriter, opts: { delayMs?: number; logger?: Logger } = {}): () => void {
  const timers = new Set<NodeJS.Timeout>();
  const stop = hub.subscribeAll((event: DomainEvent) => {
    if (event.event_type !== 'Genesis.Session.ConceptGenerationRequested') return;
    const commandId = event.causation_id;
    const timer = setTimeout(() => {
      timers.delete(timer);
      writer
        .finishCommand(commandId, AGGREGATE_TYPE, () => ({
          outcome: 'completed',
          result: { concepts: 3 },
          events: [
            {
              eventType: 'Genesis.Session.ConceptsProposed',
              payload: { session_id: event.aggregate_id, concepts: ['A city that forgets', 'The last lighthouse', 'Borrowed time'] },
            },
          ],
        }), { trace: traceOf(event) })
        .catch((err: unknown) => {
          // A redelivered request for a command already finished is expected, not an error.
          if (!isAegisError(err, 'COMMAND_NOT_PENDING')) opts.logger?.error({ err, command_id: commandId }, 'concept generation failed');
        });
    }, opts.delayMs ?? 300);
    timers.add(timer);
  });
  return () => {
    stop();
    for (const t of timers) clearTimeout(t);
  };
}

function traceOf(event: DomainEvent): { traceparent: string } | undefined {
  const trace = event.metadata.trace as { traceparent?: unknown } | undefined;
  return typeof trace?.traceparent === 'string' ? { traceparent: trace.traceparent } : undefined;
}
