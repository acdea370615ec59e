/**
 * `/healthz` (no authentication: 200 while the store answers, 503 when it does not) and `/metrics`
 * (Prometheus text, for admins or from loopback).
 */
import type { FastifyInstance } from "fastify";
import type { BrokerContext } from "../context.js";
import { BrokerReason } from "../errors.js";

/**
 * Registers the operations routes.
 *
 * @example
 * ```ts
 * await opsRoutes(app, ctx);
 * ```
 */
export async function opsRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  app.get("/healthz", { config: { access: { public: true } }, schema: { summary: "200 while the store answers, 503 when it does not" } }, async (_req, reply) => {
    const started = performance.now();
    let deadline: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ctx.store.ping(),
        new Promise((_, reject) => {
          deadline = setTimeout(() => reject(new Error("timeout")), 5_000).unref();
        }),
      ]);
      ctx.metrics.store.observe({ op: "ping" }, (performance.now() - started) / 1000);
      return { status: "ok" };
    } catch {
      return reply.code(503).send({ status: "unavailable", error: { code: BrokerReason.STORE_UNAVAILABLE, message: "the broker's store does not answer: check the database" } });
    } finally {
      // Cleared once answered: a probe's timer left to fire five seconds later costs the requests running then.
      clearTimeout(deadline);
    }
  });

  const metricsAccess = { access: { role: "admin", audit: "metrics.read", doing: "reading /metrics", openFromLoopback: true } } as const;
  app.get("/metrics", { config: metricsAccess, schema: { summary: "Prometheus text (admins, or anyone from loopback)" } }, async (_req, reply) => {
    return reply.header("content-type", ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}
