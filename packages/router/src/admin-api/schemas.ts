/** Response schemas of the admin API: the TypeBox definitions give validation and OpenAPI. */
import { InstanceRecord, Type } from '@aegis-ipc/protocol';

export const WireErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  status: Type.Integer(),
  retryable: Type.Boolean(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const ServiceSchema = Type.Object({
  service_name: Type.String(),
  instances: Type.Array(InstanceRecord),
  counts: Type.Object({ ONLINE: Type.Integer(), OFFLINE: Type.Integer(), UNHEALTHY: Type.Integer(), total: Type.Integer() }),
});

export const ServicesResponse = Type.Object({
  services: Type.Array(ServiceSchema),
  total_services: Type.Integer(),
  total_instances: Type.Integer(),
});

export const ComponentHealth = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('degraded')]),
  detail: Type.Optional(Type.String()),
});

export const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('degraded')]),
  components: Type.Record(Type.String(), ComponentHealth),
  uptime_s: Type.Number(),
  version: Type.String(),
  router_id: Type.String({ description: 'This router replica (`<hostname>-<pid>-<4 hex>`), the one named in its traces and logs.' }),
});
