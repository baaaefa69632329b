"""deploy/components/catalog: the location catalog from a ConfigMap, offline (no cluster).

Each overlay with the component must still pass the manifests' own checks
(tests/deploy/test_manifests.py), every alertflow Deployment must read its catalog from the
ConfigMap that deploy/README.md tells the operator to create, under the key the build writes.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_manifests import (
    DEPLOY,
    NAMESPACE,
    OVERLAYS,
    check_deployments,
    check_references,
    check_schemas,
    check_workloads,
    containers,
    env_value,
    kind_of,
    need_tool,
    pod_spec,
    render,
)

COMPONENT = DEPLOY / "components" / "catalog"
README = DEPLOY / "README.md"
CONFIGMAP = "alertflow-catalog"


def with_component(overlay: str, tmp_path: Path) -> list[dict[str, Any]]:
    """The overlay with the component, rendered, plus the ConfigMap the operator creates."""
    kubectl = need_tool("kubectl", "apt-get install -y kubectl")
    # kustomize takes relative paths only.
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": [os.path.relpath(DEPLOY / "overlays" / overlay, tmp_path)],
        "components": [os.path.relpath(COMPONENT, tmp_path)],
    }))
    done = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    if overlay == "prod":
        docs += render("prod-secrets")
    return [*docs, {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": CONFIGMAP, "namespace": NAMESPACE},
                    "binaryData": {"areas.json.gz": ""}}]


def readme_commands() -> str:
    text = README.read_text("utf-8")
    start = text.index("## Refreshing the location catalog")
    return text[start:text.index("\n## ", start + 1)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_role_reads_the_catalog_from_the_configmap(overlay: str, tmp_path: Path) -> None:
    docs = with_component(overlay, tmp_path)
    deployments = kind_of(docs, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} >= {
        "listener", "processor", "notifier", "follower"}
    section = readme_commands()
    for deployment in deployments:
        spec = pod_spec(deployment)
        volume = next(v for v in spec["volumes"] if v.get("configMap", {}).get("name")
                      == CONFIGMAP)
        assert volume["configMap"].get("optional") is False  # no pod without its catalog
        main = next(c for where, c in containers(spec) if where == "main")
        mount = next(m for m in main["volumeMounts"] if m["name"] == volume["name"])
        assert mount["readOnly"] is True and "subPath" not in mount  # kubelet updates it
        path = env_value(main, "ALERTFLOW_LOCATIONS")
        assert path == f"{mount['mountPath']}/areas.json.gz", deployment["metadata"]["name"]
    # The README's commands create that ConfigMap under that key and restart those pods.
    assert re.search(rf"create configmap {CONFIGMAP} --from-file=areas\.json\.gz\b", section)
    assert "--server-side" in section
    assert "rollout restart deploy -l app.kubernetes.io/part-of=alertflow" in section


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlays_with_the_component_pass_the_manifest_checks(
        overlay: str, tmp_path: Path) -> None:
    docs = with_component(overlay, tmp_path)
    assert check_workloads(docs) == []
    assert check_deployments(docs) == []
    assert check_references(docs) == []
    assert check_schemas([d for d in docs if d["kind"] != "ConfigMap"
                          or d["metadata"]["name"] != CONFIGMAP]) == []
