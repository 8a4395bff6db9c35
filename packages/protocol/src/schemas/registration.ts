/** Registration payloads on `ipc.service.register` / `ipc.service.unregister` (REG-1, REG-5). */
import { Type, compileSchema, type Static } from '../schema.js';
import { JsonObject, NameToken, Timestamp } from './common.js';

/** Largest accepted encoded `metadata` in bytes. */
export const MAX_METADATA_BYTES = 16 * 1024;

/**
 * A registration request. Only `service_name`, `instance_id` and `metadata` are needed; the
 * router stamps the time. The SDK adds `session_id` (one per process) so a re-registration by
 * the same process is idempotent while another live process holding the id gets 409.
 */
export const RegisterRequest = Type.Object(
  {
    service_name: NameToken('Logical service name.'),
    instance_id: NameToken('Unique id of this instance.'),
    metadata: Type.Optional(JsonObject('Free-form instance metadata (≤ 16 KiB encoded).')),
    session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Id of the registering process; defaults to the instance id.' })),
    heartbeat_interval_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000, description: 'How often this instance will heartbeat.' })),
  },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;
export const registerRequest = compileSchema(RegisterRequest);

/** The acknowledgement of a registration (REG-1). */
export const RegisterReply = Type.Object(
  {
    service_name: Type.String(),
    instance_id: Type.String(),
    status: Type.String(),
    registered_at: Timestamp,
    timestamp: Timestamp,
    /** True when this was a repeat of a registration the router already held. */
    idempotent: Type.Boolean(),
    heartbeat_interval_ms: Type.Integer(),
    heartbeat_timeout_ms: Type.Integer(),
  },
  { additionalProperties: false },
);
export type RegisterReply = Static<typeof RegisterReply>;
export const registerReply = compileSchema(RegisterReply);

/** A clean unregistration (REG-5): the instance becomes `OFFLINE`. */
export const UnregisterRequest = Type.Object(
  {
    service_name: NameToken('Logical service name.'),
    instance_id: NameToken('Instance id.'),
    session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type UnregisterRequest = Static<typeof UnregisterRequest>;
export const unregisterRequest = compileSchema(UnregisterRequest);

export const UnregisterReply = Type.Object(
  { service_name: Type.String(), instance_id: Type.String(), status: Type.String(), timestamp: Timestamp },
  { additionalProperties: false },
);
export type UnregisterReply = Static<typeof UnregisterReply>;

/** A heartbeat on `ipc.heartbeat.{service}.{instance}`. The subject names the instance. */
export const Heartbeat = Type.Object(
  { session_id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: true },
);
export type Heartbeat = Static<typeof Heartbeat>;
export const heartbeat = compileSchema(Heartbeat);
