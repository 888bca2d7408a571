"""Prometheus metrics, one registry per app (so tests and several apps in a process don't collide).

Labels are route templates (`/v1/conversations/{conversation_id}`), never raw paths: ids would make
the series count unbounded, and nothing from a request body ever becomes a label.

    grooming_risk_http_requests_total{method,route,status}
    grooming_risk_http_request_duration_seconds{method,route}       histogram
    grooming_risk_assessments_total{path}                           path = score | stream
    grooming_risk_flagged_total{path}   score: flagged conversations; stream: conversations that became flagged
    grooming_risk_urgent_total{path}    the same for the urgent threshold
    grooming_risk_messages_scored_total{path}
    grooming_risk_batch_size{batcher}                               items per model call (histogram)
    grooming_risk_state_evictions_total{reason}                     reason = ttl | lru
    grooming_risk_active_conversations                              streamed conversations held in memory
    grooming_risk_review_forwarded_total{outcome}                   outcome = ok | error
    grooming_risk_model_info{model_version}                         1 once the model is loaded
    grooming_risk_rejected_total{lane}                              429s: lane = stream | bulk
    grooming_risk_append_replays_total                              retried appends answered from state
    grooming_risk_queued_messages{lane}                             admitted, not yet scored
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from grooming_risk.contract.assessment import Assessment

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "grooming_risk_http_requests", "HTTP requests.", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "grooming_risk_http_request_duration_seconds",
            "Time from request to response.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.assessments = Counter("grooming_risk_assessments", "Assessments returned.", ["path"], registry=r)
        self.flagged = Counter(
            "grooming_risk_flagged",
            "Conversations at or above the review threshold (stream: counted when they cross it).",
            ["path"],
            registry=r,
        )
        self.urgent = Counter(
            "grooming_risk_urgent",
            "Conversations at or above the urgent threshold (stream: counted when they cross it).",
            ["path"],
            registry=r,
        )
        self.messages = Counter(
            "grooming_risk_messages_scored", "Messages run through the model.", ["path"], registry=r
        )
        self.batch_size = Histogram(
            "grooming_risk_batch_size",
            "Items per model call after micro-batching.",
            ["batcher"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.batch_requests = Histogram(
            "grooming_risk_batch_requests",
            "Requests merged into one model call.",
            ["batcher"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.evictions = Counter(
            "grooming_risk_state_evictions",
            "Streamed conversations dropped from the state store.",
            ["reason"],
            registry=r,
        )
        self.active = Gauge(
            "grooming_risk_active_conversations",
            "Streamed conversations held in the state store.",
            registry=r,
        )
        self.forwarded = Counter(
            "grooming_risk_review_forwarded",
            "Flagged conversations forwarded to the review store.",
            ["outcome"],
            registry=r,
        )
        self.model_info = Gauge(
            "grooming_risk_model_info", "The loaded model (value 1).", ["model_version"], registry=r
        )
        self.rejected = Counter(
            "grooming_risk_rejected",
            "Requests refused with 429 because their lane's queue was full.",
            ["lane"],
            registry=r,
        )
        self.replays = Counter(
            "grooming_risk_append_replays",
            "Appends recognised as retries of the last one (start_index and messages equal) and "
            "answered from the stored state without scoring them again.",
            registry=r,
        )
        self.queued = Gauge(
            "grooming_risk_queued_messages",
            "Messages admitted and not yet scored, by lane.",
            ["lane"],
            registry=r,
        )
        for lane in ("stream", "bulk"):
            self.rejected.labels(lane=lane)
            self.queued.labels(lane=lane)
        for reason in ("ttl", "lru"):
            self.evictions.labels(reason=reason)
        for path in ("score", "stream"):
            self.assessments.labels(path=path)
            self.flagged.labels(path=path)
            self.urgent.labels(path=path)

    def observe_batch(self, name: str, requests: int, items: int) -> None:
        self.batch_size.labels(batcher=name).observe(items)
        self.batch_requests.labels(batcher=name).observe(requests)

    def evicted(self, reason: str) -> None:
        self.evictions.labels(reason=reason).inc()

    def scored(self, assessments: list[Assessment]) -> None:
        self.assessments.labels(path="score").inc(len(assessments))
        self.flagged.labels(path="score").inc(sum(a.flagged for a in assessments))
        self.urgent.labels(path="score").inc(sum(a.urgent for a in assessments))

    def streamed(self, before: Assessment | None, after: Assessment, n_messages: int) -> None:
        self.assessments.labels(path="stream").inc()
        self.messages.labels(path="stream").inc(n_messages)
        if after.flagged and not (before and before.flagged):
            self.flagged.labels(path="stream").inc()
        if after.urgent and not (before and before.urgent):
            self.urgent.labels(path="stream").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
