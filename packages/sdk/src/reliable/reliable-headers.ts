/**
 * Headers of a reliable request in the JetStream stream (besides `Nats-Msg-Id`, `Ipc-Message-Id`
 * and `Ipc-Trace-Id` from the protocol). Kept here: only exactly-once calls read them.
 */
export const RELIABLE_HEADERS = {
  /** Epoch ms after which the request is `EXPIRED` instead of processed. */
  expiresAt: 'Ipc-Expires-At',
  /** Deliveries the caller allows (≤ the consumer's); lowers the service-wide maximum. */
  maxDeliveries: 'Ipc-Max-Deliveries',
  /** When the caller first sent it (ISO); kept as the status's `created_at`. */
  createdAt: 'Ipc-Created-At',
  /**
   * `1` on the first publish of an id the SDK generated for this call: no other copy of the id can
   * exist (every caller publish also expects no message on the id's subject), so its first
   * delivery needs no claim (ADR 0053). Never copied into dead letters or replays.
   */
  firstSend: 'Ipc-First-Send',
  /**
   * Where the caller also wants the EO-2 ACK: a subject under its own inbox, so a call needs no
   * subscription of its own (the ACK still goes to `ipc.ack.{message_id}` for everyone else).
   */
  ackTo: 'Ipc-Ack-To',
  /** Times an operator replayed it from the dead letters. */
  replays: 'Ipc-Replays',
  /** Dead letters: the last error, the deliveries made and when it was parked. */
  lastError: 'Ipc-Last-Error',
  deliveries: 'Ipc-Deliveries',
  deadLetteredAt: 'Ipc-Dead-Lettered-At',
} as const;
