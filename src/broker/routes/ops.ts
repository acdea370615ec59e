/**
 * `/healthz` (no authentication: 200 while the store answers, 503 when it does not) and `/metrics`
 * (Prometheus text, for admins or from loopback).
 */
import type { FastifyInstance } from "fastify";
import type { BrokerContext } from "../context.js";
import { isLoopbackAddress } from "../auth.js";

/**
 * Registers the operations routes.
 *
 * @example
 * ```ts
 * await opsRoutes(app, ctx);
 * ```
 */
export async function opsRoutes(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  app.get("/healthz", async (_req, reply) => {
    const started = performance.now();
    try {
      await Promise.race([
        ctx.store.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 5_000).unref()),
      ]);
      ctx.metrics.store.observe({ op: "ping" }, (performance.now() - started) / 1000);
      return { status: "ok" };
    } catch {
      return reply.code(503).send({ status: "unavailable", error: { code: "unavailable", message: "the broker's store does not answer: check the database" } });
    }
  });

  app.get("/metrics", async (req, reply) => {
    if (!isLoopbackAddress(req.ip)) {
      const user = await ctx.authenticate(req);
      await ctx.requireAdmin(req, user, "reading /metrics");
    }
    return reply.header("content-type", ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}
