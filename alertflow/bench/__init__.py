"""alertflow's own benchmark: `alertflow bench SCENARIO` (or `python -m alertflow.bench`).

Scenarios (issue 4): `latency`, `fanout`, `burst`, `ingest`, `close`. Each measures the pipeline
end to end through its public interfaces — HTTP in, Socket.IO out — against a running deployment
(`--listener-url`, `--notifier-url`, `--token`) or against roles it starts itself (`--start`), and
prints one JSON line on stdout and a readable table on stderr. Timings are reported, never
judged: targets live in issues, results in `docs/benchmarks.md`.

Heavy dependencies (aiohttp, psutil) are imported only when a scenario runs, so `alertflow`
works without the `bench` extra.
"""
