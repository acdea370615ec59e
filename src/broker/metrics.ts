/**
 * The broker's Prometheus metrics, in a registry of its own (so two brokers in one process, as in
 * tests, do not share counters): requests, tokens issued by provider and outcome, store latency.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The broker's metrics. */
export interface BrokerMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  tokens: Counter<"provider" | "outcome">;
  store: Histogram<"op">;
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
  };
}
