"""Issue 11, item 1: long-polling sessions stick to one notifier pod in every overlay — by
cookie through the Ingress, by client address through the Service."""

from __future__ import annotations

from typing import Any

from tests.deploy.test_manifests import OVERLAYS, cluster_docs


def _problems(docs: list[dict[str, Any]]) -> list[str]:
    problems = []
    services = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "notifier"]
    if len(services) != 1 or services[0]["spec"].get("sessionAffinity") != "ClientIP":
        problems.append("the notifier Service does not pin clients (sessionAffinity ClientIP)")
    routed = False
    for ingress in (d for d in docs if d["kind"] == "Ingress"):
        annotations = ingress["metadata"].get("annotations") or {}
        for rule in ingress["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                if path["path"] == "/socket.io/" and (
                        path["backend"]["service"]["name"] == "notifier"):
                    routed = True
                    if annotations.get("nginx.ingress.kubernetes.io/affinity") != "cookie":
                        problems.append(f"{ingress['metadata']['name']}: /socket.io/ without "
                                        "cookie affinity")
    if not routed:
        problems.append("no Ingress routes /socket.io/ to the notifier")
    return problems


def test_every_overlay_pins_long_polling_sessions() -> None:
    for overlay in OVERLAYS:
        assert _problems(cluster_docs(overlay)) == [], overlay


def test_the_check_sees_a_missing_affinity() -> None:
    docs = cluster_docs(OVERLAYS[0])
    for doc in docs:
        if doc["kind"] == "Service" and doc["metadata"]["name"] == "notifier":
            doc["spec"]["sessionAffinity"] = "None"
        if doc["kind"] == "Ingress":
            (doc["metadata"].get("annotations") or {}).pop(
                "nginx.ingress.kubernetes.io/affinity", None)
    problems = _problems(docs)
    assert any("Service" in p for p in problems) and any("cookie" in p for p in problems)
