/**
 * The subject namespace: the first token of every AegisIPC subject, `ipc` by default (the seeds'
 * names). Several isolated AegisIPC systems — environments sharing one NATS, or test files
 * running in parallel — set different `AEGIS_NAMESPACE` values; every process of one system
 * must use the same value. Read once at start-up, like the rest of the wire contract.
 */
import { AegisError } from './errors/aegis-error.js';

/** @default 'ipc' */
export const DEFAULT_NAMESPACE = 'ipc';

const TOKEN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Validates a namespace (a subject token of 1…32 characters).
 * @throws AegisError `CONFIG_INVALID`
 */
export function resolveNamespace(value: string | undefined): string {
  if (value === undefined || value === '') return DEFAULT_NAMESPACE;
  if (!TOKEN.test(value)) {
    throw new AegisError('CONFIG_INVALID', `AEGIS_NAMESPACE=${JSON.stringify(value)} is invalid: expected 1…32 of [A-Za-z0-9_-]`, {
      details: { env: 'AEGIS_NAMESPACE', value },
    });
  }
  return value;
}

/** The namespace of this process, from `AEGIS_NAMESPACE`. */
export const NAMESPACE = resolveNamespace((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.AEGIS_NAMESPACE);
