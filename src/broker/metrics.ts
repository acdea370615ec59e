/**
 * The broker's Prometheus metrics, in a registry of its own (so two brokers in one process, as in
 * tests, do not share counters): requests, tokens issued by provider and outcome, store latency,
 * and how often a token request's access came from the last second's (access-cache.ts).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The broker's metrics. */
export interface BrokerMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  tokens: Counter<"provider" | "outcome">;
  store: Histogram<"op">;
  accessCache: Counter<"result">;
  accessCacheLive: Gauge;
}

/**
 * A fresh registry with the broker's metrics and the process defaults.
 *
 * @example
 * ```ts
 * const metrics = createBrokerMetrics();
 * metrics.tokens.inc({ provider: "ncp", outcome: "issued" });
 * const text = await metrics.registry.metrics();
 * ```
 */
export function createBrokerMetrics(): BrokerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kubeiam_broker_" });
  return {
    registry,
    requests: new Counter({
      name: "kubeiam_broker_http_requests_total",
      help: "HTTP requests answered, by method, route and status.",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    tokens: new Counter({
      name: "kubeiam_broker_tokens_total",
      help: "Cluster token requests, by provider and outcome (issued, denied, error).",
      labelNames: ["provider", "outcome"],
      registers: [registry],
    }),
    store: new Histogram({
      name: "kubeiam_broker_store_seconds",
      help: "Store latency by operation (auth lookup, access lookup, audit commit).",
      labelNames: ["op"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    accessCache: new Counter({
      name: "kubeiam_broker_access_cache_total",
      help: "Token requests by broker token whose access was kept from the last second (hit) or read from the store (miss); none on the embedded store.",
      labelNames: ["result"],
      registers: [registry],
    }),
    accessCacheLive: new Gauge({
      name: "kubeiam_broker_access_cache_live",
      help: "1 while the store's announcements of access changes are heard (PostgreSQL) and granted access may be kept for up to a second; else 0, and every token request reads the store.",
      registers: [registry],
    }),
  };
}
