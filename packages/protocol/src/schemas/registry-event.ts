/**
 * Registry change notifications (RT-3 "service-group change notifications"), published on
 * `ipc.events.registry` by the router replica that made the change, and emitted in-process by
 * every replica as its registry view changes. A union told apart by `type` (STYLE habit 6).
 */
import type { InstanceStatus } from './instance-status.js';

export type RegistryEvent =
  | {
      readonly type: 'instance_registered';
      readonly service_name: string;
      readonly instance_id: string;
      readonly session_id: string;
      readonly at: string;
    }
  | {
      readonly type: 'instance_status_changed';
      readonly service_name: string;
      readonly instance_id: string;
      readonly from: InstanceStatus;
      readonly to: InstanceStatus;
      readonly reason: string;
      readonly at: string;
    }
  | {
      readonly type: 'instance_removed';
      readonly service_name: string;
      readonly instance_id: string;
      readonly at: string;
    };
