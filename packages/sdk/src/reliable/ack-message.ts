/**
 * The acknowledgement a receiver publishes on `ipc.ack.{message_id}` once the handler finished
 * (EO-2). Besides the EO-2 fields it carries the response (so the caller needs no second round
 * trip), the wire error of a failure, and whether it answered a duplicate from the cache.
 */
import type { WireError } from '@aegis-ipc/protocol';

export interface AckMessage {
  readonly message_id: string;
  readonly service_name: string;
  readonly instance_id: string;
  readonly status: 'success' | 'failure';
  readonly error_message: string | null;
  readonly processing_time_ms: number;
  readonly trace_id: string;
  readonly response?: unknown;
  readonly error?: WireError;
  /** True when the response came from the dedupe cache or inbox (no processing happened). */
  readonly duplicate: boolean;
}
