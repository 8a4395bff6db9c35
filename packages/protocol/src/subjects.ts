/**
 * The NATS subjects of the AegisIPC protocol (DESIGN "protocol"; names kept from the seeds).
 * Every subject starts with the namespace (`ipc` unless `AEGIS_NAMESPACE` says otherwise; see
 * `namespace.ts`). Builders take names that were already checked with `assertName`; they do not
 * re-validate on the hot path.
 */
import { NAMESPACE as NS } from './namespace.js';

/** Fixed subjects. */
export const SUBJECTS = Object.freeze({
  /** Registration request-reply, served by the router queue group. */
  register: `${NS}.service.register`,
  /** Clean unregistration request-reply (marks the instance `OFFLINE`). */
  unregister: `${NS}.service.unregister`,
  /** Routed calls: caller → router (queue group {@link QUEUE_GROUPS.router}). */
  routeRequest: `${NS}.route.request`,
  /** Status of a message id (exactly-once calls). */
  messageStatus: `${NS}.message.status`,
  /** Wildcard for all heartbeats; router replicas subscribe without a queue group. */
  heartbeatAll: `${NS}.heartbeat.>`,
  /** Registry and health change notifications (service-group change events, RT-3). */
  events: `${NS}.events.registry`,
  /**
   * Trace lookup (RT-8): every router replica answers, without a queue group, with the routes it
   * holds for a trace id (`schemas/trace-lookup.ts`).
   */
  traceLookup: `${NS}.router.traces`,
});

/** Queue groups: every router replica joins these, so each request is served once. */
export const QUEUE_GROUPS = {
  router: 'ipc-router',
} as const;

/** Heartbeat of one instance: `ipc.heartbeat.{service}.{instance}`. */
export function heartbeatSubject(serviceName: string, instanceId: string): string {
  return `${NS}.heartbeat.${serviceName}.${instanceId}`;
}

/** The inbox the router sends calls to: `ipc.instance.{instance_id}.inbox`. */
export function instanceInboxSubject(instanceId: string): string {
  return `${NS}.instance.${instanceId}.inbox`;
}

/** Control messages for one instance (`ping`, `reregister`): `ipc.instance.{instance_id}.control`. */
export function instanceControlSubject(instanceId: string): string {
  return `${NS}.instance.${instanceId}.control`;
}

/** Acknowledgements for a reliable call: `ipc.ack.{message_id}`. */
export function ackSubject(messageId: string): string {
  return `${NS}.ack.${messageId}`;
}

/** Parses `ipc.heartbeat.{service}.{instance}`; `undefined` when the subject has another shape. */
export function parseHeartbeatSubject(subject: string): { serviceName: string; instanceId: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== NS || parts[1] !== 'heartbeat') return undefined;
  return { serviceName: parts[2] as string, instanceId: parts[3] as string };
}
