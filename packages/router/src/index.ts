/**
 * `@aegis-ipc/router` — the AegisIPC router: service registry on JetStream KV, heartbeat health,
 * admin REST API with OpenAPI, Prometheus metrics.
 *
 * @example
 * import { Router } from '@aegis-ipc/router';
 * const router = await Router.start(); // NATS_URL, AEGIS_HTTP_PORT… from the environment
 * await router.close();
 */
export { Router, ROUTER_VERSION, type RouterStartOptions } from './router.js';
export { ROUTER_SETTINGS, resolveRouterSettings, type RouterOptions, type RouterSettings } from './config/router-settings.js';
export { Registry, type ServiceView, type StatusChange } from './registry/registry.js';
export { ADMIN_PREFIX } from './admin-api/admin-server.js';
export type { CheckResult } from './health/health-monitor.js';
export { startTracing, tracesExporterFromEnv, type TracingHandle } from './tracing/otel-setup.js';
