"""The KubeRay manifests, rendered with kustomize (base and the aks overlay), against the KubeRay v1.7 CRD schemas.

The CRDs' OpenAPI schemas are applied strictly: an object with declared properties takes no others (what
`kubectl apply --validate=strict` does; the API server would otherwise prune a misspelt field without a word).
"""

from __future__ import annotations

import copy
import functools
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from croniter import croniter

from tests.conftest import PROJECT_ROOT

# KubeRay v1.7.0's CRDs, copied into the project with their SOURCE.md.
SCHEMAS = Path(__file__).parent / "schemas" / "kuberay"
KUSTOMIZE = PROJECT_ROOT / ".tools" / "kustomize"
OVERLAYS = {"base": PROJECT_ROOT / "cluster/kuberay/base", "aks": PROJECT_ROOT / "cluster/kuberay/overlays/aks"}
CRDS = {
    "RayCluster": "ray.io_rayclusters.yaml",
    "RayJob": "ray.io_rayjobs.yaml",
    "RayService": "ray.io_rayservices.yaml",
    "RayCronJob": "ray.io_raycronjobs.yaml",
}


@functools.cache
def render(folder: Path) -> list[dict[str, Any]]:
    """The folder's manifests as kustomize renders them (once per session; callers copy before changing)."""
    assert KUSTOMIZE.exists(), f"{KUSTOMIZE} is missing: `make setup` builds it"
    command = [str(KUSTOMIZE), "build", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def strict(schema: Any) -> Any:
    """The schema with unknown properties refused wherever properties are declared."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.Draft7Validator]:
    found = {}
    for kind, name in CRDS.items():
        # libyaml: the CRDs are megabytes of YAML.
        crd = yaml.load((SCHEMAS / name).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
        found[kind] = jsonschema.Draft7Validator(strict(version["schema"]["openAPIV3Schema"]))
    return found


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(OVERLAYS[request.param])


def of_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents if doc["kind"] == kind]


def test_every_kuberay_manifest_validates_against_its_crd(
    rendered: list[dict[str, Any]], validators: dict[str, jsonschema.Draft7Validator]
) -> None:
    ray = [doc for doc in rendered if doc["apiVersion"] == "ray.io/v1"]
    assert {doc["kind"] for doc in ray} == set(CRDS)
    for doc in ray:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validators[doc["kind"]].iter_errors(doc)
        ]
        assert errors == [], f"{doc['kind']} {doc['metadata']['name']}"


def test_the_strict_check_catches_a_misspelt_field_and_a_wrong_type(
    validators: dict[str, jsonschema.Draft7Validator],
) -> None:
    cluster = of_kind(render(OVERLAYS["base"]), "RayCluster")[0]
    misspelt = copy.deepcopy(cluster)
    misspelt["spec"]["workerGroupSpecs"][0]["minReplica"] = 1
    wrong = copy.deepcopy(cluster)
    wrong["spec"]["workerGroupSpecs"][0]["maxReplicas"] = "four"
    assert not validators["RayCluster"].is_valid(misspelt)
    assert not validators["RayCluster"].is_valid(wrong)


def test_the_rayservice_serves_the_projects_serve_config(rendered: list[dict[str, Any]]) -> None:
    service = of_kind(rendered, "RayService")[0]
    committed = yaml.safe_load((PROJECT_ROOT / "serve/config.yaml").read_text())
    assert yaml.safe_load(service["spec"]["serveConfigV2"]) == committed, (
        "serveConfigV2 differs from serve/config.yaml: copy the file into cluster/kuberay/base/rayservice.yaml"
    )


def test_ray_version_autoscaling_and_gcs_fault_tolerance(rendered: list[dict[str, Any]]) -> None:
    pins = dict(
        line.split("==") for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines() if "==" in line
    )
    clusters = [doc["spec"] for doc in of_kind(rendered, "RayCluster")]
    clusters += [doc["spec"]["rayClusterConfig"] for doc in of_kind(rendered, "RayService")]
    for spec in clusters:
        assert spec["rayVersion"] == pins["ray"]
        assert spec["enableInTreeAutoscaling"] is True
        assert any(group["minReplicas"] < group["maxReplicas"] for group in spec["workerGroupSpecs"])
        fault_tolerance = spec["gcsFaultToleranceOptions"]
        assert fault_tolerance["backend"] == "redis"
        assert "secretKeyRef" in fault_tolerance["redisPassword"]["valueFrom"]
        assert spec["authOptions"]["mode"] == "token"


def test_training_runs_as_a_rayjob_and_nightly_as_a_raycronjob(rendered: list[dict[str, Any]]) -> None:
    jobs = {doc["metadata"]["name"]: doc["spec"] for doc in of_kind(rendered, "RayJob")}
    assert jobs["train"]["entrypoint"] == "python -m jobs.train"
    cron = of_kind(rendered, "RayCronJob")[0]["spec"]
    assert croniter.is_valid(cron["schedule"])
    assert cron["jobTemplate"]["entrypoint"] == "python -m jobs.train"
    for spec in [*jobs.values(), cron["jobTemplate"]]:
        assert spec["clusterSelector"] == {"ray.io/cluster": "scalar-ray"}


def test_no_secret_is_written_in_a_manifest(rendered: list[dict[str, Any]]) -> None:
    def walk(node: Any, path: str = "") -> list[str]:
        found = []
        if isinstance(node, dict):
            if (
                "name" in node
                and "value" in node
                and any(w in str(node["name"]).upper() for w in ("PASSWORD", "TOKEN", "KEY", "SECRET"))
            ):
                found.append(f"{path}: {node['name']}")
            for key, value in node.items():
                found += walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found += walk(value, f"{path}/{index}")
        return found

    assert [leak for doc in rendered for leak in walk(doc)] == []
    settings = of_kind(rendered, "ConfigMap")[0]["data"]
    assert not [key for key in settings if any(w in key for w in ("PASSWORD", "TOKEN", "API_KEYS", "SECRET"))]


def test_the_aks_overlay_reads_secrets_from_key_vault_with_workload_identity() -> None:
    documents = render(OVERLAYS["aks"])
    provider = of_kind(documents, "SecretProviderClass")[0]
    synced = provider["spec"]["secretObjects"][0]
    assert synced["secretName"] == "scalar-ray-secrets"
    keys = {item["key"] for item in synced["data"]}
    assert {
        "REDIS_PASSWORD",
        "SCALAR_SERVE__API_KEYS",
        "RAY_AUTH_TOKEN",
        "SCALAR_WAREHOUSE__STARROCKS__PASSWORD",
    } <= keys
    account = of_kind(documents, "ServiceAccount")[0]
    assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]
    cluster = of_kind(documents, "RayCluster")[0]["spec"]
    service = of_kind(documents, "RayService")[0]["spec"]["rayClusterConfig"]
    templates = [cluster["headGroupSpec"]["template"], *(g["template"] for g in cluster["workerGroupSpecs"])]
    templates += [service["headGroupSpec"]["template"], *(g["template"] for g in service["workerGroupSpecs"])]
    for template in templates:
        assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        assert volumes["secrets-store"]["csi"]["volumeAttributes"]["secretProviderClass"] == "scalar-ray-keyvault"
        assert template["spec"]["serviceAccountName"] == "scalar-ray"
    images = {c["image"] for t in templates for c in t["spec"]["containers"]}
    assert images == {"REPLACE-registry.azurecr.io/scalar-ray:0.1.0"}


def test_the_pods_run_the_image_that_ships_the_project() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "scalar-ray"
    documents = render(OVERLAYS["base"])
    cluster = of_kind(documents, "RayCluster")[0]["spec"]
    assert {c["image"] for c in cluster["headGroupSpec"]["template"]["spec"]["containers"]} == {"scalar-ray:local"}
