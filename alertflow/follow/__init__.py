"""`alertflow follow URL`: polls a feed in the national feed's shape and enqueues its alerts.

`poller` does the polling (conditional requests, backoff, exactly-once ids); `app` its health,
readiness and metrics. Parsing is `alertflow.domain.hfc`, publishing the listener's publisher.
"""
