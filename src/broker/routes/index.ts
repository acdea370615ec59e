/**
 * Every route group of the broker, in registration order. A new group is a file in this folder and
 * one line here.
 */
import type { RouteGroup } from "../context.js";
import { auditRoutes } from "./audit.js";
import { clusterRoutes } from "./clusters.js";
import { consoleRouteGroup } from "./console.js";
import { credentialRoutes } from "./credentials.js";
import { grantRoutes } from "./grants.js";
import { loginRoutes } from "./login.js";
import { opsRoutes } from "./ops.js";
import { spiderRoutes } from "./spider.js";
import { userRoutes } from "./users.js";

/** The route groups `createBrokerApp` registers. */
export const ROUTE_GROUPS: readonly RouteGroup[] = [opsRoutes, userRoutes, grantRoutes, credentialRoutes, clusterRoutes, auditRoutes, spiderRoutes, loginRoutes, consoleRouteGroup];
