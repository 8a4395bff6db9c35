/** Instance status (REG-2). An `as const` object plus a union, never a TS enum (STYLE habit 6). */
export const INSTANCE_STATUS = {
  ONLINE: 'ONLINE',
  OFFLINE: 'OFFLINE',
  UNHEALTHY: 'UNHEALTHY',
} as const;

export type InstanceStatus = (typeof INSTANCE_STATUS)[keyof typeof INSTANCE_STATUS];
