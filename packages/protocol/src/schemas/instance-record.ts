/** The registry entry of one instance, as stored in the KV bucket and shown by the admin API. */
import { Type, compileSchema, type Static } from '../schema.js';
import { JsonObject, Timestamp } from './common.js';

export const InstanceRecord = Type.Object(
  {
    service_name: Type.String(),
    instance_id: Type.String(),
    status: Type.Union([Type.Literal('ONLINE'), Type.Literal('OFFLINE'), Type.Literal('UNHEALTHY')]),
    metadata: JsonObject('Instance metadata as registered.'),
    session_id: Type.String(),
    registered_at: Timestamp,
    updated_at: Timestamp,
    last_heartbeat_at: Type.Optional(Timestamp),
    heartbeat_interval_ms: Type.Integer(),
    /** Why the status last changed (`registered`, `heartbeat timeout`, `unregistered`, …). */
    status_reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type InstanceRecord = Static<typeof InstanceRecord>;
export const instanceRecord = compileSchema(InstanceRecord);
