/**
 * Control messages the router sends to one instance on `ipc.instance.{instance_id}.control`:
 * `ping` (request-reply, for manual health checks) and `reregister` (the router saw heartbeats
 * from an instance it has no record of — e.g. the KV entry aged out — and asks it to register
 * again so its metadata is restored).
 */
import { Type, compileSchema, type Static } from '../schema.js';

export const InstanceControl = Type.Object(
  { type: Type.Union([Type.Literal('ping'), Type.Literal('reregister')]) },
  { additionalProperties: true },
);
export type InstanceControl = Static<typeof InstanceControl>;
export const instanceControl = compileSchema(InstanceControl);

/** The reply to a `ping`. */
export interface PingReply {
  readonly instance_id: string;
  readonly session_id: string;
  readonly timestamp: string;
}
