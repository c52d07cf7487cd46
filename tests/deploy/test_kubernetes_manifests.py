"""The Kubernetes manifests under deploy/kubernetes/ (base/, and the sharding example that
builds on it), validated offline.

Core kinds go through ``kubernetes-validate --strict`` (the API server's OpenAPI schemas,
unknown fields rejected). It has no schema for the prometheus-operator kinds, so the
ServiceMonitor and the PrometheusRule are validated against strict subset schemas in
``schemas/`` whose metadata and label selectors refer to the same Kubernetes definitions.
kustomize (built into kubectl) renders both kustomizations, and what it renders is
validated the same way. Then the manifests are checked against each other and against the
service's contract: ports, probe paths and timings, selectors, the non-root user of the
image; and the shards against each other: disjoint selectors, one copy of the rules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import jsonschema
import kubernetes_validate
import pytest
import referencing
import yaml

from tests.deploy.support import REPO_ROOT, parse_dockerfile
from tests.webconfig.certs import Authority
from tests.webconfig.support import assert_web_config_accepted

K8S_DIR = REPO_ROOT / "deploy" / "kubernetes" / "base"
SHARDING_DIR = REPO_ROOT / "deploy" / "kubernetes" / "sharding"
TLS_DIR = REPO_ROOT / "deploy" / "kubernetes" / "tls"
SCHEMAS = Path(__file__).parent / "schemas"
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
CONTRACT_PORT = 34739
DEFAULT_MAX_DATA_AGE = 900.0


def _resource_files() -> list[Path]:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    return [K8S_DIR / name for name in kustomization["resources"]]


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _all_resources() -> list[dict[str, Any]]:
    return [doc for path in _resource_files() for doc in _documents(path)]


def _one(kind: str) -> dict[str, Any]:
    found = [doc for doc in _all_resources() if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _container() -> dict[str, Any]:
    (container,) = _one("Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def _k8s_definitions() -> referencing.Resource[Any]:
    """The Kubernetes definitions kubernetes-validate ships (strict variant, latest version)."""
    version = kubernetes_validate.utils.latest_version()
    package = Path(kubernetes_validate.__file__).parent
    path = package / "kubernetes-json-schema" / f"v{version}-local-strict" / "_definitions.json"
    return referencing.Resource.from_contents(json.loads(path.read_text()))


def _crd_validator(kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / f"{kind.lower()}-monitoring-v1.json").read_text())
    registry: referencing.Registry[Any] = _k8s_definitions() @ referencing.Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _validate_strictly(
    binary: Callable[[str], str], files: list[Path], resources: list[dict[str, Any]]
) -> None:
    """kubernetes-validate --strict passes every core-kind resource of ``files``; the only
    kinds it has no schema for are the operator's, which are checked against ours."""
    result = subprocess.run(
        [binary("kubernetes-validate"), "--strict", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    core = [doc for doc in resources if doc["kind"] not in CRD_KINDS]
    passed = [line for line in result.stdout.splitlines() if line.startswith("INFO")]
    assert len(passed) == len(core), result.stdout
    for line in result.stdout.splitlines():
        if line.startswith("WARN"):
            assert any(f"kind {kind} " in line for kind in CRD_KINDS), line
    for doc in resources:
        if doc["kind"] in CRD_KINDS:
            _crd_validator(doc["kind"]).validate(doc)


def _kustomize(binary: Callable[[str], str], directory: Path, output: Path) -> list[dict[str, Any]]:
    """Render a kustomization with the kustomize built into kubectl, into ``output``."""
    result = subprocess.run(
        [binary("kubectl"), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output.write_text(result.stdout)
    return _documents(output)


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def _check_config(
    configmap: dict[str, Any], secret: dict[str, Any], root: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``easee-exporter check-config`` on a ConfigMap's config.yaml, with the Secret's
    values at the paths its ``*_file`` keys name (re-rooted under ``root``)."""

    def reroot(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: provide(value) if key.endswith("_file") else reroot(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [reroot(item) for item in node]
        return node

    def provide(mounted: str) -> str:
        # The Secret volume holds one file per key: the file name is the key.
        target = root / mounted.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(secret["stringData"][Path(mounted).name])
        return str(target)

    config = reroot(yaml.safe_load(configmap["data"]["config.yaml"]))
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    # Only the file counts: no EASEE_* variable of the caller may fill a gap.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASEE_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "exporter", "check-config", "--config.file", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=root,
    )


def _seconds(duration: str | float) -> float:
    """Seconds of a configuration duration (a number, or ``15m``, ``90s``, ``1h``)."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"s": 1, "m": 60, "h": 3600}
    return float(duration[:-1]) * units[duration[-1]] if duration[-1] in units else float(duration)


class TestKustomization:
    def test_lists_every_manifest_and_only_existing_ones(self) -> None:
        listed = {path.name for path in _resource_files()}
        on_disk = {path.name for path in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
        assert listed == on_disk

    def test_image_override_names_the_deployment_image(self) -> None:
        kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
        image = _container()["image"]
        assert [entry["name"] for entry in kustomization["images"]] == [image.split(":")[0]]


class TestSchemas:
    def test_core_kinds_validate_strictly(self, binary: Callable[[str], str]) -> None:
        """Every core-kind resource passes; unknown kinds are only the operator's CRDs."""
        _validate_strictly(binary, _resource_files(), _all_resources())

    def test_kubernetes_validate_rejects_an_unknown_field(
        self, binary: Callable[[str], str], tmp_path: Path
    ) -> None:
        """Strict mode is live: a misspelt probe key in our Deployment is an error."""
        deployment = _one("Deployment")
        deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["periodSecond"] = 5
        planted = tmp_path / "deployment.yaml"
        planted.write_text(yaml.safe_dump(deployment))
        result = subprocess.run(
            [binary("kubernetes-validate"), "--strict", str(planted)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 1
        assert "periodSecond" in result.stdout

    @pytest.mark.parametrize("kind", sorted(CRD_KINDS))
    def test_operator_kinds_match_their_schema(self, kind: str) -> None:
        for doc in _all_resources():
            if doc["kind"] == kind:
                _crd_validator(kind).validate(doc)

    def test_service_monitor_schema_rejects_unknown_fields(self) -> None:
        monitor = _one("ServiceMonitor")
        monitor["spec"]["endpoints"][0]["intervall"] = "30s"
        errors = list(_crd_validator("ServiceMonitor").iter_errors(monitor))
        assert any("intervall" in error.message for error in errors)

    def test_service_monitor_schema_rejects_bad_metadata(self) -> None:
        """Metadata is checked against Kubernetes' own ObjectMeta definition."""
        monitor = _one("ServiceMonitor")
        monitor["metadata"]["label"] = {"a": "b"}
        assert not _crd_validator("ServiceMonitor").is_valid(monitor)


class TestWiring:
    def test_container_port_is_the_contract_port(self) -> None:
        assert _container()["ports"] == [
            {"name": "http-metrics", "containerPort": CONTRACT_PORT, "protocol": "TCP"}
        ]

    def test_service_exposes_http_metrics_on_the_contract_port(self) -> None:
        (port,) = _one("Service")["spec"]["ports"]
        assert port["name"] == "http-metrics"
        assert port["port"] == CONTRACT_PORT
        assert port["targetPort"] == "http-metrics"

    def test_selectors_reach_the_pods(self) -> None:
        """Deployment -> pod template, Service -> pods, ServiceMonitor -> Service."""
        deployment = _one("Deployment")
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        service = _one("Service")
        assert service["spec"]["selector"].items() <= pod_labels.items()
        monitor = _one("ServiceMonitor")
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= service["metadata"]["labels"].items()

    def test_service_monitor_scrapes_metrics_under_the_alerts_job(self) -> None:
        """The rules select ``job="easee"``; the ServiceMonitor names the job so."""
        (endpoint,) = _one("ServiceMonitor")["spec"]["endpoints"]
        assert endpoint["port"] == "http-metrics"
        assert endpoint["path"] == "/metrics"
        assert {"targetLabel": "job", "replacement": "easee"} in endpoint["relabelings"]

    def test_only_one_replica_and_never_two_pods_at_once(self) -> None:
        """Two pods on one account would double logins and webhook commands."""
        spec = _one("Deployment")["spec"]
        assert spec["replicas"] == 1
        assert spec["strategy"] == {"type": "Recreate"}

    def test_configuration_passes_check_config(self, tmp_path: Path) -> None:
        """The service accepts the ConfigMap's config.yaml, with the Secret's files."""
        result = _check_config(_one("ConfigMap"), _one("Secret"), tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "configuration OK" in result.stdout + result.stderr

    def test_check_config_rejects_a_misspelt_key(self, tmp_path: Path) -> None:
        """The check is live: a misspelt key in the same configuration is an error."""
        configmap = _one("ConfigMap")
        configmap["data"]["config.yaml"] += "logging_level: debug\n"
        result = _check_config(configmap, _one("Secret"), tmp_path)
        assert result.returncode == 2
        assert "logging_level" in result.stderr

    def test_mounts_provide_the_files_the_configuration_names(self) -> None:
        """--config.file is in the ConfigMap's mount; every ``*_file`` in it is a key of
        the Secret under the Secret's mount."""
        container = _container()
        pod = _one("Deployment")["spec"]["template"]["spec"]
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = {mount["mountPath"]: volumes[mount["name"]] for mount in container["volumeMounts"]}
        (config_arg,) = [a for a in container["args"] if a.startswith("--config.file=")]
        config_path = Path(config_arg.removeprefix("--config.file="))
        config_volume = mounts[str(config_path.parent)]
        configmap = _one("ConfigMap")
        assert config_volume["configMap"]["name"] == configmap["metadata"]["name"]
        config = yaml.safe_load(configmap["data"][config_path.name])
        secret = _one("Secret")
        file_paths = [account["password_file"] for account in config["accounts"]] + [
            token["token_file"] for token in config["webhooks"]["tokens"]
        ]
        for file_path in map(Path, file_paths):
            volume = mounts[str(file_path.parent)]
            assert volume["secret"]["secretName"] == secret["metadata"]["name"]
            assert file_path.name in secret["stringData"]


class TestProbesAndSecurity:
    def test_probes_use_the_health_endpoints(self) -> None:
        container = _container()
        for probe, path in (
            ("startupProbe", "/readyz"),
            ("readinessProbe", "/readyz"),
            ("livenessProbe", "/healthz"),
        ):
            assert container[probe]["httpGet"] == {"path": path, "port": "http-metrics"}

    def test_probe_timings_respect_the_max_data_age(self) -> None:
        """The start-up window is at least the liveness max data age (the service's own
        start-up grace), so a slow login is not cut short; liveness acts within a minute of
        /healthz turning 503, since that endpoint already waited the whole max data age."""
        container = _container()
        configmap = _one("ConfigMap")
        config = yaml.safe_load(configmap["data"]["config.yaml"])
        max_age = _seconds(config.get("liveness", {}).get("max_data_age", DEFAULT_MAX_DATA_AGE))
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= max_age
        liveness = container["livenessProbe"]
        assert liveness["failureThreshold"] <= 3
        assert liveness["periodSeconds"] * liveness["failureThreshold"] <= 60
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["timeoutSeconds"] < container[probe]["periodSeconds"]

    def test_runs_locked_down_as_the_image_user(self) -> None:
        pod = _one("Deployment")["spec"]["template"]["spec"]
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        final_user = [
            item.arguments
            for item in parse_dockerfile((REPO_ROOT / "Dockerfile").read_text())
            if item.keyword == "USER"
        ][-1]
        assert f"{context['runAsUser']}:{context['runAsGroup']}" == final_user
        container = _container()["securityContext"]
        assert container["readOnlyRootFilesystem"] is True
        assert container["allowPrivilegeEscalation"] is False
        assert container["capabilities"] == {"drop": ["ALL"]}
        assert pod["automountServiceAccountToken"] is False

    def test_resources_are_bounded(self) -> None:
        resources = _container()["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys()
        assert "memory" in resources["limits"]


class TestKustomize:
    @pytest.mark.parametrize(
        "directory", [K8S_DIR, SHARDING_DIR, TLS_DIR], ids=["base", "sharding", "tls"]
    )
    def test_renders_valid_manifests(
        self, directory: Path, binary: Callable[[str], str], tmp_path: Path
    ) -> None:
        """What ``kubectl apply -k`` would send validates, in the namespace and with the
        image the base kustomization sets."""
        rendered = tmp_path / "rendered.yaml"
        resources = _kustomize(binary, directory, rendered)
        _validate_strictly(binary, [rendered], resources)
        base = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
        (image,) = base["images"]
        for doc in resources:
            assert doc["metadata"]["namespace"] == base["namespace"]
            if doc["kind"] == "Deployment":
                (container,) = doc["spec"]["template"]["spec"]["containers"]
                assert container["image"] == f"{image['newName']}:{image['newTag']}"


@pytest.fixture(scope="module")
def shards(
    binary: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    """The sharding example, rendered."""
    return _kustomize(binary, SHARDING_DIR, tmp_path_factory.mktemp("shards") / "shards.yaml")


def _of_kind(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in resources if doc["kind"] == kind]


class TestSharding:
    def test_every_shard_directory_is_deployed(self, shards: list[dict[str, Any]]) -> None:
        kustomization = yaml.safe_load((SHARDING_DIR / "kustomization.yaml").read_text())
        directories = sorted(path.name for path in SHARDING_DIR.glob("shard-*"))
        assert sorted(kustomization["resources"]) == directories
        assert len(_of_kind(shards, "Deployment")) == len(directories)

    def test_each_service_selects_the_pods_of_its_own_shard_only(
        self, shards: list[dict[str, Any]]
    ) -> None:
        deployments = _of_kind(shards, "Deployment")
        for service in _of_kind(shards, "Service"):
            selected = [
                deployment["metadata"]["name"]
                for deployment in deployments
                if _selects(
                    service["spec"]["selector"],
                    deployment["spec"]["template"]["metadata"]["labels"],
                )
            ]
            assert selected == [service["metadata"]["name"]]

    def test_each_service_monitor_scrapes_its_own_service_only(
        self, shards: list[dict[str, Any]]
    ) -> None:
        """Otherwise every shard would be scraped once per shard (duplicate series)."""
        services = _of_kind(shards, "Service")
        monitors = _of_kind(shards, "ServiceMonitor")
        assert len(monitors) == len(services)
        for monitor in monitors:
            selected = [
                service["metadata"]["name"]
                for service in services
                if _selects(
                    monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"]
                )
            ]
            assert selected == [monitor["metadata"]["name"]]

    def test_rules_are_deployed_once(self, shards: list[dict[str, Any]]) -> None:
        """Two copies of the rules would fire every alert twice."""
        (rule,) = _of_kind(shards, "PrometheusRule")
        assert rule["spec"]["groups"]

    def test_each_deployment_mounts_its_own_configuration(
        self, shards: list[dict[str, Any]]
    ) -> None:
        names = {(doc["kind"], doc["metadata"]["name"]) for doc in shards}
        for deployment in _of_kind(shards, "Deployment"):
            own = deployment["metadata"]["name"]
            volumes = deployment["spec"]["template"]["spec"]["volumes"]
            references = {
                ("ConfigMap", v["configMap"]["name"])
                if "configMap" in v
                else ("Secret", v["secret"]["secretName"])
                for v in volumes
            }
            assert references == {("ConfigMap", own), ("Secret", own)}
            assert references <= names

    def test_no_charger_is_exported_by_two_shards(self, shards: list[dict[str, Any]]) -> None:
        """A charger in two shards would count twice in every sum over the fleet."""
        seen: dict[str, str] = {}
        for configmap in _of_kind(shards, "ConfigMap"):
            config = yaml.safe_load(configmap["data"]["config.yaml"])
            assert config["chargers"], configmap["metadata"]["name"]
            for charger in config["chargers"]:
                serial = str(charger["serial"])
                assert serial not in seen, f"{serial} is in {seen.get(serial)} too"
                seen[serial] = configmap["metadata"]["name"]

    def test_each_shard_configuration_passes_check_config(
        self, shards: list[dict[str, Any]], tmp_path: Path
    ) -> None:
        """Each shard's config.yaml, with its own Secret's files, is accepted by the service
        and lists the chargers it exports (no discovery of the whole account)."""
        secrets = {doc["metadata"]["name"]: doc for doc in _of_kind(shards, "Secret")}
        for configmap in _of_kind(shards, "ConfigMap"):
            name = configmap["metadata"]["name"]
            result = _check_config(configmap, secrets[name], tmp_path / name)
            assert result.returncode == 0, result.stdout + result.stderr
            listed = len(yaml.safe_load(configmap["data"]["config.yaml"])["chargers"])
            assert f"{listed} charger(s) listed" in result.stdout
            assert "discovering" not in result.stdout


@pytest.fixture(scope="module")
def tls_overlay(
    binary: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    """The TLS example, rendered."""
    return _kustomize(binary, TLS_DIR, tmp_path_factory.mktemp("tls") / "tls.yaml")


def _named(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [doc for doc in resources if doc["kind"] == kind and doc["metadata"]["name"] == name]
    return found


class TestTLSOverlay:
    """deploy/kubernetes/tls: HTTPS with basic auth, the ServiceMonitor scraping it."""

    def test_probes_speak_https_to_the_open_health_endpoints(
        self, tls_overlay: list[dict[str, Any]]
    ) -> None:
        (deployment,) = [doc for doc in tls_overlay if doc["kind"] == "Deployment"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        for probe, path in (
            ("startupProbe", "/readyz"),
            ("readinessProbe", "/readyz"),
            ("livenessProbe", "/healthz"),
        ):
            assert container[probe]["httpGet"] == {
                "path": path,
                "port": "http-metrics",
                "scheme": "HTTPS",
            }

    def test_service_monitor_scrapes_https_with_the_mounted_credentials(
        self, tls_overlay: list[dict[str, Any]]
    ) -> None:
        (monitor,) = [doc for doc in tls_overlay if doc["kind"] == "ServiceMonitor"]
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["scheme"] == "https"
        assert endpoint["path"] == "/metrics"
        ca = endpoint["tlsConfig"]["ca"]["secret"]
        (deployment,) = [doc for doc in tls_overlay if doc["kind"] == "Deployment"]
        volumes = deployment["spec"]["template"]["spec"]["volumes"]
        tls_secrets = {v["secret"]["secretName"] for v in volumes if "secret" in v}
        # The CA comes with the serving certificate (cert-manager writes ca.crt beside it).
        assert ca == {"name": "easee-exporter-tls", "key": "ca.crt"}
        assert ca["name"] in tls_secrets
        auth = endpoint["basicAuth"]
        scrape = _named(tls_overlay, "Secret", auth["username"]["name"])
        assert auth["password"]["name"] == scrape["metadata"]["name"]
        assert {auth["username"]["key"], auth["password"]["key"]} <= scrape["stringData"].keys()

    def test_web_configuration_passes_promtool_and_check_config_and_matches_the_scrape_password(
        self, tls_overlay: list[dict[str, Any]], tmp_path: Path
    ) -> None:
        (deployment,) = [doc for doc in tls_overlay if doc["kind"] == "Deployment"]
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        (web_arg,) = [a for a in container["args"] if a.startswith("--web.config.file=")]
        web_path = Path(web_arg.removeprefix("--web.config.file="))
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
        web_secret = _named(
            tls_overlay, "Secret", mounts[str(web_path.parent)]["secret"]["secretName"]
        )
        text = web_secret["stringData"][web_path.name]
        web_config = yaml.safe_load(text)
        tls = web_config["tls_server_config"]
        # The certificate files are the keys of the mounted TLS Secret (tls.crt, tls.key).
        for key in ("cert_file", "key_file"):
            mounted = Path(tls[key])
            assert mounts[str(mounted.parent)]["secret"]["secretName"] == "easee-exporter-tls"
        issued = Authority(tmp_path / "ca").issue("server")
        root = tmp_path / "root"
        for key, source in (("cert_file", issued.cert), ("key_file", issued.key)):
            target = root / tls[key].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            tls[key] = str(target)
        assert_web_config_accepted(web_config, tmp_path)
        scrape = _named(tls_overlay, "Secret", "easee-exporter-scrape")["stringData"]
        hashed = web_config["basic_auth_users"][scrape["username"]]
        assert bcrypt.checkpw(scrape["password"].encode(), hashed.encode())
