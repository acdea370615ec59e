/**
 * The web console (`GET /` and `/console/…`): see `../console/routes.ts`.
 */
import type { FastifyInstance } from "fastify";
import type { BrokerContext } from "../context.js";
import { consoleRoutes } from "../console/routes.js";

/**
 * Registers the console's routes.
 *
 * @example
 * ```ts
 * await consoleRouteGroup(app, ctx);
 * ```
 */
export async function consoleRouteGroup(app: FastifyInstance, ctx: BrokerContext): Promise<void> {
  await consoleRoutes(app, ctx, {});
}
