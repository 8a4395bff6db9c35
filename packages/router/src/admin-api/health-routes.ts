/**
 * `/health` (per-component status), `/health/live` (the process answers) and `/health/ready`
 * (it can serve: NATS connected and the registry loaded). 503 when not up. `/health` names the
 * replica (`router_id`) so several behind one load balancer can be told apart.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@aegis-ipc/protocol';
import { HealthResponse, type ComponentHealth } from './schemas.js';

export type ComponentStatus = Static<typeof ComponentHealth>;

/** Something whose health the router reports (NATS, JetStream/KV, PostgreSQL, Redis…). */
export type HealthProbe = () => Promise<ComponentStatus> | ComponentStatus;

const startedAt = Date.now();

export function healthRoutes(probes: Readonly<Record<string, HealthProbe>>, version: string, routerId: string): FastifyPluginAsync {
  const check = async () => {
    const entries = await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => {
        try {
          return [name, await probe()] as const;
        } catch (err) {
          return [name, { status: 'down' as const, detail: (err as Error).message }] as const;
        }
      }),
    );
    const components = Object.fromEntries(entries);
    const statuses = entries.map(([, c]) => c.status);
    const status = statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'up';
    return { status, components, uptime_s: Math.round((Date.now() - startedAt) / 1000), version, router_id: routerId } as const;
  };
  return async (app) => {
    app.get('/health', { schema: { tags: ['health'], summary: 'Per-component health', response: { 200: HealthResponse, 503: HealthResponse } } }, async (_req, reply) => {
      const health = await check();
      return reply.status(health.status === 'down' ? 503 : 200).send(health);
    });
    app.get('/health/live', { schema: { tags: ['health'], summary: 'Liveness: the process answers' } }, async () => ({ status: 'up' }));
    app.get('/health/ready', { schema: { tags: ['health'], summary: 'Readiness: every component up' } }, async (_req, reply) => {
      const health = await check();
      return reply.status(health.status === 'down' ? 503 : 200).send({ status: health.status });
    });
  };
}
