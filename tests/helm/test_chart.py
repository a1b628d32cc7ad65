#!/usr/bin/python3
"""Tests of the hookguard Helm chart, offline (no cluster needed).

1. `helm lint --strict` with each ci/*-values.yaml (and no template `fail`
   swallowed by lint mode).
2. `helm template` with each ci values file, then assertions on the rendered
   manifests (probes, security context, resources, HPA/replicas, PDB,
   NetworkPolicy selectors, ServiceMonitor, ConfigMap JSON, TLS, test Pod, the
   headless Service and the name the docs give it, the front proxy: nginx
   sidecar, ports, hookguard-server bound to loopback, its rendered nginx.conf
   accepted by `nginx -t`...).
3. Values that must be rejected (schema or template `fail`): each must FAIL to
   render, with a message naming the problem.
4. `hookguard-server --check_config` accepts the config.json of every
   ConfigMap the tests render (secret files and variables replaced by
   stand-ins): the chart checks only the config's shape, the server's own
   rules (presets, kinds, what signs too little) are the ones that count.
   A config the chart renders but the server refuses (`kind: stripe`) is
   caught there.
5. Every manifest rendered from each ci values file validates with
   `kubernetes-validate --strict` (the Kubernetes API's own JSON schemas)
   against the oldest Kubernetes version the chart supports (Chart.yaml's
   kubeVersion) and the newest one kubernetes-validate ships.

Run with Debian's Python (PyYAML from python3-yaml): /usr/bin/python3;
kubernetes-validate runs from the project's .venv (scripts/setup.sh); the
server binary is HOOKGUARD_BUILD_DIR's (default: build/).
Prints one line per check and a summary `N passed, M failed`; exits 1 on any
failure. HELM may name the helm binary (default: .tools/bin/helm, then PATH).
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(REPO, "helm", "hookguard")
CI = os.path.join(CHART, "ci")
CI_FILES = ["minimal-values.yaml", "production-values.yaml", "tls-values.yaml", "stripe-values.yaml",
            "front-proxy-tls-values.yaml"]
UID = 10001
GRPC_PORT = 50051
UPSTREAM_PORT = 50052  # frontProxy.upstreamPort's default
SERVICE_NAME = "hookguard.v1.WebhookAuthService"

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))
    return ok


def find_helm():
    for cand in (os.environ.get("HELM"), os.path.join(REPO, ".tools", "bin", "helm"), shutil.which("helm")):
        if cand and os.access(cand, os.X_OK):
            return cand
    print("FAIL helm not found: run scripts/setup.sh (installs it to .tools/bin/helm) or set HELM")
    print("0 passed, 1 failed")
    sys.exit(1)


HELM = find_helm()
TMP = tempfile.mkdtemp(prefix="hookguard-helm-test-")
SERVER = os.path.join(os.environ.get("HOOKGUARD_BUILD_DIR", os.path.join(REPO, "build")),
                      "server", "service", "hookguard-server")
# What every referenced secret holds in the --check_config runs: valid as raw
# key bytes, as base64 (secret_is_base64) and as standard_webhooks' whsec_.
STAND_IN_SECRET = "whsec_" + base64.b64encode(b"helm-chart-test-secret!!").decode()

# What each values file is, for check names: the ci file's name, or the
# overrides' JSON.
VALUES_LABELS = {}
# The config.json of every ConfigMap rendered by a render(..., check=True),
# by its JSON text: the label of the first render that gave it.
RENDERED_CONFIGS = {}


def values_file(values, name="override"):
    path = os.path.join(TMP, f"{name}-{abs(hash(json.dumps(values, sort_keys=True)))}.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(values, f)
    VALUES_LABELS[path] = json.dumps(values, sort_keys=True)
    return path


def render(*files, release="t", namespace="hg", kube_version=None, check_config=True):
    """Returns (ok, docs_or_error_text). With check_config, the config.json of
    a rendered ConfigMap is kept for test_rendered_configs_pass_the_server()."""
    cmd = [HELM, "template", release, CHART, "--namespace", namespace]
    if kube_version:
        cmd += ["--kube-version", kube_version]
    for f in files:
        cmd += ["-f", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return False, p.stderr + p.stdout
    docs = [d for d in yaml.safe_load_all(p.stdout) if d]
    if check_config:
        label = " + ".join(VALUES_LABELS.get(f, os.path.basename(f)) for f in files)
        for cm in kinds(docs, "ConfigMap"):
            if "config.json" in cm.get("data", {}):
                RENDERED_CONFIGS.setdefault(cm["data"]["config.json"], label)
    return True, docs


def server_check_config(config_json):
    """Runs `hookguard-server --check_config` on a rendered config.json, each
    secret `file` replaced by a temporary file and each secret `env` set, both
    holding STAND_IN_SECRET. Returns (exit code, output)."""
    config = json.loads(config_json)
    work = tempfile.mkdtemp(dir=TMP)
    env = {"PATH": "/usr/bin:/bin"}
    for n, secret in enumerate(s for p in config.get("profiles") or [] for s in p.get("secrets") or []):
        if "file" in secret:
            secret["file"] = os.path.join(work, f"secret-{n}")
            with open(secret["file"], "w") as f:
                f.write(STAND_IN_SECRET)
        if "env" in secret:
            env[secret["env"]] = STAND_IN_SECRET
    path = os.path.join(work, "config.json")
    with open(path, "w") as f:
        json.dump(config, f)
    p = subprocess.run([SERVER, "--check_config", f"--config={path}"], env=env,
                       capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def ci(name):
    return os.path.join(CI, name)


def kinds(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def one(docs, kind, pred=lambda d: True):
    found = [d for d in kinds(docs, kind) if pred(d)]
    return found[0] if len(found) == 1 else None


def server_pod(docs):
    dep = one(docs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    return dep, pod, next(c for c in pod["containers"] if c["name"] == "hookguard")


def front_proxy_container(pod):
    """The nginx sidecar (frontProxy.enabled), or None."""
    return next((c for c in pod["containers"] if c["name"] == "front-proxy"), None)


def mem_bytes(quantity) -> int:
    """A Kubernetes memory quantity ("256Mi", "1G", "512") in bytes."""
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(quantity))
    if not m:
        return 0
    unit = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}[m.group(2)]
    return int(m.group(1)) * unit


def flag(container, name):
    for a in container.get("args", []):
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return None


def service(docs, name):
    return one(docs, "Service", lambda d: d["metadata"]["name"] == name)


def assert_headless(tag, docs, dep, svc):
    """The headless Service (on by default): `<Service name>-headless`,
    clusterIP None, ready pods only, the Service's selector and gRPC port."""
    name = f"{svc['metadata']['name']}-headless"
    hl = service(docs, name)
    if not check(f"{tag}: headless Service {name} present (one of two Services)",
                 hl is not None and len(kinds(docs, "Service")) == 2,
                 str([d["metadata"]["name"] for d in kinds(docs, "Service")])):
        return
    spec = hl["spec"]
    check(f"{tag}: headless Service clusterIP None, ready pods only",
          spec.get("clusterIP") == "None" and spec.get("publishNotReadyAddresses") is False
          and spec.get("type", "ClusterIP") == "ClusterIP", str(spec))
    check(f"{tag}: headless Service selects the server pods as the Service does",
          spec["selector"] == svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"])
    grpc = [p for p in svc["spec"]["ports"] if p["name"] == "grpc"]
    check(f"{tag}: headless Service has exactly the Service's grpc port (no metrics port)",
          spec["ports"] == grpc, str(spec["ports"]))


def test_pod(docs):
    return one(docs, "Pod", lambda d: d["metadata"].get("annotations", {}).get("helm.sh/hook") == "test")


# ---------------------------------------------------------------- assertions
def assert_common(tag, docs, tls=False, metrics=True, front_proxy=True, upstream=UPSTREAM_PORT):
    dep, pod, c = server_pod(docs)
    # Security context.
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    check(f"{tag}: pod runAsNonRoot with UID {UID}",
          psc.get("runAsNonRoot") is True and psc.get("runAsUser") == UID and csc.get("runAsUser") == UID, f"{psc} {csc}")
    check(f"{tag}: seccompProfile RuntimeDefault",
          psc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
          and csc.get("seccompProfile", {}).get("type") == "RuntimeDefault")
    check(f"{tag}: readOnlyRootFilesystem, no privilege escalation, drop ALL",
          csc.get("readOnlyRootFilesystem") is True and csc.get("allowPrivilegeEscalation") is False
          and "ALL" in csc.get("capabilities", {}).get("drop", []), str(csc))
    res = c.get("resources", {})
    check(f"{tag}: resources requests and limits set",
          all(res.get("requests", {}).get(k) for k in ("cpu", "memory")) and res.get("limits", {}).get("memory")
          and res.get("limits", {}).get("cpu"), str(res))
    tmp_vol = [v for v in pod["volumes"] if v["name"] == "tmp"]
    check(f"{tag}: no front proxy sidecar" if not front_proxy else f"{tag}: front proxy sidecar present",
          (front_proxy_container(pod) is not None) == front_proxy, str([x["name"] for x in pod["containers"]]))
    check(f"{tag}: emptyDir /tmp",
          tmp_vol and "emptyDir" in tmp_vol[0] and any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]))
    check(f"{tag}: service account token not mounted", pod.get("automountServiceAccountToken") is False)
    sa = one(docs, "ServiceAccount")
    check(f"{tag}: ServiceAccount automountServiceAccountToken false",
          sa is not None and sa.get("automountServiceAccountToken") is False)
    # HTTP/2 limits (threat rows 25, 26): always passed, and gRPC's buffer
    # quota well under the memory limit (the pod peaks at a few times it).
    limits = {n: flag(c, n) for n in ("max_concurrent_streams", "memory_quota_bytes",
                                      "max_metadata_bytes", "max_connection_idle_seconds",
                                      "handshake_timeout_ms")}
    check(f"{tag}: HTTP/2 limits passed to the server", all(limits.values()), str(limits))
    memory_limit = mem_bytes(res.get("limits", {}).get("memory", "0"))
    check(f"{tag}: memory_quota_bytes at most an eighth of the memory limit",
          limits["memory_quota_bytes"] and int(limits["memory_quota_bytes"]) * 8 <= memory_limit,
          f"{limits['memory_quota_bytes']} vs {memory_limit}")
    # Rollout and shutdown.
    ru = dep["spec"]["strategy"].get("rollingUpdate", {})
    check(f"{tag}: rolling update maxUnavailable 0", ru.get("maxUnavailable") == 0, str(ru))
    pre = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    drain = int(flag(c, "drain_seconds") or -1)
    sleep = int(pre[1]) if len(pre) == 2 and pre[0] == "sleep" else -1
    check(f"{tag}: preStop sleep, grace period > preStop + drain",
          sleep >= 0 and drain >= 0 and pod["terminationGracePeriodSeconds"] > sleep + drain,
          f"sleep={sleep} drain={drain} grace={pod.get('terminationGracePeriodSeconds')}")
    # Probes.
    probes = {k: c.get(k) for k in ("startupProbe", "readinessProbe", "livenessProbe")}
    if front_proxy:
        # The kubelet dials the pod IP; hookguard-server listens on loopback
        # only: exec probes from inside, plaintext (TLS ends in nginx).
        ok = all(p and p.get("exec", {}).get("command", [])[:3]
                 == ["hookguard", "health", f"--target=127.0.0.1:{upstream}"]
                 and not any(a.startswith("--tls_") for a in p["exec"]["command"])
                 for p in probes.values())
        check(f"{tag}: with the front proxy, probes exec `hookguard health` straight to "
              f"hookguard-server on 127.0.0.1:{upstream}, plaintext", ok, str(probes))
        check(f"{tag}: with the front proxy, readiness checks {SERVICE_NAME}",
              f"--service={SERVICE_NAME}" in probes["readinessProbe"]["exec"]["command"])
        assert_front_proxy(tag, docs, tls=tls, upstream=upstream)
    elif not tls:
        check(f"{tag}: startup/readiness/liveness are native gRPC probes on {GRPC_PORT}",
              all(p and p.get("grpc", {}).get("port") == GRPC_PORT for p in probes.values()), str(probes))
        check(f"{tag}: readiness checks {SERVICE_NAME}",
              probes["readinessProbe"]["grpc"].get("service") == SERVICE_NAME)
    else:
        ok = all(p and p.get("exec", {}).get("command", [])[:2] == ["hookguard", "health"]
                 and any(a.startswith("--tls_ca=") for a in p["exec"]["command"]) for p in probes.values())
        check(f"{tag}: with TLS, probes exec `hookguard health` over TLS", ok, str(probes))
        check(f"{tag}: with TLS, readiness checks {SERVICE_NAME}",
              f"--service={SERVICE_NAME}" in probes["readinessProbe"]["exec"]["command"])
    check(f"{tag}: liveness more lenient than readiness",
          probes["livenessProbe"]["failureThreshold"] * probes["livenessProbe"]["periodSeconds"]
          > probes["readinessProbe"]["failureThreshold"] * probes["readinessProbe"]["periodSeconds"])
    # Database secret.
    db = [e for e in c.get("env", []) if e["name"] == "HOOKGUARD_DB"]
    check(f"{tag}: HOOKGUARD_DB from a Secret key",
          len(db) == 1 and db[0].get("valueFrom", {}).get("secretKeyRef", {}).get("name"), str(db))
    # Service.
    svc = service(docs, dep["metadata"]["name"])
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    check(f"{tag}: Service port grpc {GRPC_PORT} appProtocol grpc",
          ports.get("grpc", {}).get("port") == GRPC_PORT and ports["grpc"].get("appProtocol") == "grpc", str(ports))
    check(f"{tag}: Service selects only server pods",
          svc["spec"]["selector"].get("app.kubernetes.io/component") == "server"
          and svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"])
    if metrics:
        check(f"{tag}: metrics port on Service and --metrics_listen",
              "metrics" in ports and flag(c, "metrics_listen") == f"0.0.0.0:{ports['metrics']['port']}")
    assert_headless(tag, docs, dep, svc)
    # Spread.
    tsc = pod.get("topologySpreadConstraints", [])
    check(f"{tag}: topologySpreadConstraints across nodes",
          any(t["topologyKey"] == "kubernetes.io/hostname" for t in tsc), str(tsc))
    # Webhook secret files: whole-Secret mount, read-only, no subPath (rotation).
    ws = [m for m in c["volumeMounts"] if m["name"] == "webhook-secrets"]
    check(f"{tag}: webhook Secret mounted read-only without subPath",
          len(ws) == 1 and ws[0].get("readOnly") is True and "subPath" not in ws[0], str(ws))
    # Test hook Pod.
    tp = test_pod(docs)
    ok = tp is not None
    if ok:
        tc = tp["spec"]["containers"][0]
        ok = (tc["image"] == c["image"] and tc.get("command") == ["hookguard"] and tc["args"][0] == "health"
              and f"--target={dep['metadata']['name']}.hg.svc:{GRPC_PORT}" in tc["args"]
              and tc["securityContext"].get("readOnlyRootFilesystem") is True
              and tp["metadata"]["labels"].get("app.kubernetes.io/component") == "test")
    check(f"{tag}: helm test Pod runs `hookguard health` against the Service with the same image", ok,
          str(tp and tp["spec"]))
    return dep, pod, c


def nginx_conf(docs):
    """The front proxy's nginx.conf from its ConfigMap, or None."""
    cm = one(docs, "ConfigMap", lambda d: d["metadata"]["name"].endswith("-front-proxy"))
    return cm and cm["data"].get("nginx.conf")


def nginx_accepts(conf):
    """`nginx -t` (Debian's nginx, as in the image) on a rendered nginx.conf,
    its /tmp paths moved to a temporary directory. (None, why) without nginx."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not nginx:
        return None, "nginx not installed (scripts/setup.sh installs it)"
    work = tempfile.mkdtemp(dir=TMP)
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf.replace("/tmp/", work + "/"))
    p = subprocess.run([nginx, "-t", "-c", path, "-e", "stderr"], capture_output=True, text=True)
    return p.returncode == 0, (p.stdout + p.stderr).strip()[-600:]


def assert_front_proxy(tag, docs, tls=False, upstream=UPSTREAM_PORT, port=GRPC_PORT):
    """The nginx sidecar (threat row 25): same image and hardening as the
    server, takes the gRPC port, forwards to hookguard-server bound to
    127.0.0.1:upstream; with TLS, TLS ends in nginx with the mounted Secret."""
    dep, pod, c = server_pod(docs)
    fp = front_proxy_container(pod)
    if not check(f"{tag}: front proxy: nginx sidecar `front-proxy` present", fp is not None):
        return
    check(f"{tag}: front proxy: hookguard-server bound to loopback (--listen=127.0.0.1:{upstream})",
          flag(c, "listen") == f"127.0.0.1:{upstream}", str(flag(c, "listen")))
    check(f"{tag}: front proxy: the gRPC port (named grpc, {port}) is nginx's, not hookguard-server's",
          [p_ for p_ in fp.get("ports", []) if p_["name"] == "grpc"] == [
              {"name": "grpc", "containerPort": port, "protocol": "TCP"}]
          and all(p_["name"] != "grpc" for p_ in c.get("ports", [])), f"{fp.get('ports')} {c.get('ports')}")
    check(f"{tag}: front proxy: same image, runs nginx with the mounted config, logs to stderr",
          fp["image"] == c["image"] and fp.get("command") == ["nginx"]
          and fp.get("args") == ["-c", "/etc/hookguard-front-proxy/nginx.conf", "-e", "stderr"], str(fp))
    check(f"{tag}: front proxy: the server container's securityContext (UID {UID}, read-only root, drop ALL)",
          fp.get("securityContext") == c.get("securityContext"), str(fp.get("securityContext")))
    res = fp.get("resources", {})
    check(f"{tag}: front proxy: resources requests and limits set",
          all(res.get("requests", {}).get(k) for k in ("cpu", "memory"))
          and all(res.get("limits", {}).get(k) for k in ("cpu", "memory")), str(res))
    mounts = {m["mountPath"]: m for m in fp.get("volumeMounts", [])}
    check(f"{tag}: front proxy: emptyDir /tmp and the config ConfigMap read-only",
          mounts.get("/tmp", {}).get("name") == "tmp"
          and mounts.get("/etc/hookguard-front-proxy", {}).get("readOnly") is True, str(mounts))
    check(f"{tag}: front proxy: readiness is nginx listening on grpc",
          fp.get("readinessProbe", {}).get("tcpSocket") == {"port": "grpc"}, str(fp.get("readinessProbe")))
    pre = fp.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    hg_pre = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    check(f"{tag}: front proxy: preStop sleeps as long as the server's, then stops nginx gracefully (QUIT)",
          len(pre) == 3 and pre[2].startswith(f"sleep {hg_pre[1] if len(hg_pre) == 2 else '?'};")
          and "kill -QUIT 1" in pre[2], str(pre))
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    check(f"{tag}: front proxy: checksum/front-proxy annotation (pods roll on a config change)",
          re.fullmatch(r"[0-9a-f]{64}", ann.get("checksum/front-proxy", "")) is not None)
    conf = nginx_conf(docs)
    if not check(f"{tag}: front proxy: ConfigMap <fullname>-front-proxy holds nginx.conf", bool(conf)):
        return
    directives = [line.strip() for line in conf.splitlines() if line.strip() and not line.strip().startswith("#")]
    check(f"{tag}: nginx.conf: header field bound (large_client_header_buffers 4 16k)",
          "large_client_header_buffers 4 16k;" in directives)
    listen = f"listen {port} ssl http2;" if tls else f"listen {port} http2;"
    check(f"{tag}: nginx.conf: {listen!r}, grpc_pass to 127.0.0.1:{upstream}",
          listen in directives and f"server 127.0.0.1:{upstream};" in directives
          and "grpc_pass grpc://hookguard;" in directives, conf)
    temp = [d for d in directives if d.split()[0].endswith("_temp_path")]
    check(f"{tag}: nginx.conf: as UID {UID} on a read-only root: no `user`, daemon off, pid and all "
          "five temp paths under /tmp, errors to stderr",
          not any(d.startswith("user ") for d in directives) and "daemon off;" in directives
          and "pid /tmp/nginx.pid;" in directives and len(temp) == 5
          and all(d.split()[1].startswith("/tmp/") for d in temp)
          and any(d.startswith("error_log stderr") for d in directives), conf)
    ok, out = nginx_accepts(conf)
    check(f"{tag}: nginx.conf: `nginx -t` (Debian's nginx) accepts it", ok is not False, out)
    tls_mounts = [m for m in fp.get("volumeMounts", []) + c["volumeMounts"] if m["name"] == "tls"]
    if tls:
        base = "/run/secrets/hookguard-tls"
        check(f"{tag}: nginx.conf: TLS ends in nginx with the mounted Secret, read at each handshake",
              f"ssl_certificate {base}/tls.crt$hookguard_reload;" in directives
              and f"ssl_certificate_key {base}/tls.key$hookguard_reload;" in directives, conf)
        check(f"{tag}: front proxy: the TLS Secret is mounted in nginx only; hookguard-server "
              "serves plaintext on loopback",
              [m["mountPath"] for m in fp["volumeMounts"] if m["name"] == "tls"] == [base]
              and not [m for m in c["volumeMounts"] if m["name"] == "tls"]
              and flag(c, "tls_cert") is None and flag(c, "client_ca") is None, str(tls_mounts))
    else:
        check(f"{tag}: nginx.conf: plaintext, no TLS mount",
              not any(d.startswith("ssl_") for d in directives) and not tls_mounts, conf)


def assert_configmap(tag, docs, profiles):
    cm = one(docs, "ConfigMap", lambda d: "config.json" in d.get("data", {}))
    if not check(f"{tag}: ConfigMap present", cm is not None):
        return
    try:
        cfg = json.loads(cm["data"]["config.json"])
    except Exception as e:  # noqa: BLE001
        check(f"{tag}: ConfigMap config.json parses as JSON", False, str(e))
        return
    check(f"{tag}: ConfigMap config.json parses as JSON", True)
    check(f"{tag}: config has profiles {profiles}", [p["name"] for p in cfg.get("profiles", [])] == profiles,
          str(cfg))
    check(f"{tag}: no inline secret in config", all(set(s) <= {"key_id", "env", "file"}
                                                     for p in cfg["profiles"] for s in p["secrets"]))
    dep, pod, c = server_pod(docs)
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    check(f"{tag}: checksum/config annotation", re.fullmatch(r"[0-9a-f]{64}", ann.get("checksum/config", "")) is not None)
    check(f"{tag}: --config points at the mounted ConfigMap",
          flag(c, "config") == "/etc/hookguard/config.json"
          and any(m["mountPath"] == "/etc/hookguard" and m["name"] == "config" for m in c["volumeMounts"]))
    return cfg


def test_ci_files():
    rendered = {}
    for name in CI_FILES:
        p = subprocess.run([HELM, "lint", "--strict", CHART, "-f", ci(name)], capture_output=True, text=True)
        out = p.stdout + p.stderr
        # Lint mode turns template `fail` into a log line instead of an error.
        check(f"lint --strict {name}", p.returncode == 0 and "funcMap fail" not in out and "[ERROR]" not in out,
              out.strip()[-600:])
        ok, docs = render(ci(name))
        check(f"template {name}", ok, "" if ok else docs[-800:])
        # NOTES.txt only renders on install: a client-side dry run needs no cluster.
        p = subprocess.run([HELM, "install", "t", CHART, "-n", "hg", "-f", ci(name), "--dry-run=client"],
                           capture_output=True, text=True)
        notes = p.stdout.split("NOTES:", 1)[1] if "NOTES:" in p.stdout else ""
        check(f"NOTES.txt {name}: service address, headless target and connection budget",
              p.returncode == 0 and "t-hookguard.hg.svc:50051" in notes and "the database sees" in notes
              and "dns:///t-hookguard-headless.hg.svc:50051" in notes, (p.stderr or notes)[-400:])
        if ok:
            rendered[name] = docs
    return rendered


def test_minimal(docs):
    tag = "minimal"
    dep, pod, c = assert_common(tag, docs)
    check(f"{tag}: --ownership_cache_ttl_ms left out when 0", flag(c, "ownership_cache_ttl_ms") is None)
    check(f"{tag}: no read replica unless database.readExistingSecret is set",
          flag(c, "db_read_max_lag_ms") is None
          and not [e for e in c.get("env", []) if e["name"] == "HOOKGUARD_DB_READ"])
    check(f"{tag}: connections recycled every 300 s by default (new pods get traffic)",
          flag(c, "max_connection_age_seconds") == "300")
    check(f"{tag}: replicas set (2) when autoscaling is off", dep["spec"].get("replicas") == 2)
    check(f"{tag}: no HPA when autoscaling is off", not kinds(docs, "HorizontalPodAutoscaler"))
    pdb = one(docs, "PodDisruptionBudget")
    check(f"{tag}: policy/v1 PDB maxUnavailable 1",
          pdb is not None and pdb["apiVersion"] == "policy/v1" and pdb["spec"].get("maxUnavailable") == 1
          and pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"], str(pdb))
    check(f"{tag}: no ServiceMonitor by default", not kinds(docs, "ServiceMonitor"))
    check(f"{tag}: no NetworkPolicy by default", not kinds(docs, "NetworkPolicy"))
    check(f"{tag}: no audit CronJob by default", not kinds(docs, "CronJob"))
    check(f"{tag}: no TLS flags", flag(c, "tls_cert") is None and flag(c, "client_ca") is None)
    check(f"{tag}: image tag defaults to appVersion", c["image"] == "hookguard:0.1.0", c["image"])
    cfg = assert_configmap(tag, docs, ["vapi"])
    if cfg:
        check(f"{tag}: default profile secret file is under the Secret mount",
              cfg["profiles"][0]["secrets"][0]["file"].startswith("/run/secrets/hookguard/"))


def test_production(docs):
    tag = "production"
    _, _, c = server_pod(docs)
    read = [e for e in c.get("env", []) if e["name"] == "HOOKGUARD_DB_READ"]
    check(f"{tag}: HOOKGUARD_DB_READ from database.readExistingSecret, lag bound as a flag",
          len(read) == 1 and read[0]["valueFrom"]["secretKeyRef"] == {
              "name": "hookguard-db-read", "key": "connection-string"}
          and flag(c, "db_read_max_lag_ms") == "2000", str(read))
    dep, pod, c = assert_common(tag, docs)
    hpa = one(docs, "HorizontalPodAutoscaler")
    check(f"{tag}: autoscaling/v2 HPA 3..12 on the Deployment",
          hpa is not None and hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["minReplicas"] == 3
          and hpa["spec"]["maxReplicas"] == 12 and hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"],
          str(hpa))
    check(f"{tag}: Deployment omits replicas under the HPA", "replicas" not in dep["spec"])
    pdb = one(docs, "PodDisruptionBudget")
    check(f"{tag}: PDB minAvailable 2 (and no maxUnavailable)",
          pdb is not None and pdb["spec"].get("minAvailable") == 2 and "maxUnavailable" not in pdb["spec"], str(pdb))
    np_ = one(docs, "NetworkPolicy")
    if check(f"{tag}: NetworkPolicy present", np_ is not None):
        spec = np_["spec"]
        grpc_rule = [r for r in spec["ingress"] if {"port": "grpc", "protocol": "TCP"} in r["ports"]]
        metrics_rule = [r for r in spec["ingress"] if {"port": "metrics", "protocol": "TCP"} in r["ports"]]
        web_peer = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}}
        check(f"{tag}: NetworkPolicy admits the web tier from values on the gRPC port",
              len(grpc_rule) == 1 and web_peer in grpc_rule[0]["from"], str(grpc_rule))
        check(f"{tag}: NetworkPolicy admits only web tier and the release's test Pod on gRPC",
              len(grpc_rule) == 1 and len(grpc_rule[0]["from"]) == 2
              and any(p.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "test"
                      and "namespaceSelector" not in p for p in grpc_rule[0]["from"]))
        check(f"{tag}: NetworkPolicy admits the monitoring namespace on the metrics port",
              len(metrics_rule) == 1 and metrics_rule[0]["from"][0]["namespaceSelector"]
              == {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}, str(metrics_rule))
        check(f"{tag}: NetworkPolicy selects the server pods",
              spec["podSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"])
        check(f"{tag}: NetworkPolicy egress to DNS and the database port",
              "Egress" in spec["policyTypes"] and any(
                  {"port": 6432, "protocol": "TCP"} in r["ports"] and {"ipBlock": {"cidr": "10.20.0.0/16"}} in r["to"]
                  for r in spec.get("egress", [])))
    sm = one(docs, "ServiceMonitor")
    check(f"{tag}: ServiceMonitor scrapes the metrics port with the release label",
          sm is not None and sm["spec"]["endpoints"][0]["port"] == "metrics"
          and sm["metadata"]["labels"].get("release") == "kube-prometheus-stack", str(sm))
    cj = one(docs, "CronJob")
    ok = cj is not None
    if ok:
        jc = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        ok = (jc["command"] == ["hookguard"] and jc["args"][0] == "audit-db" and "--db=$(HOOKGUARD_DB)" in jc["args"]
              and jc["securityContext"]["readOnlyRootFilesystem"] is True
              and cj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
              == "audit")
    check(f"{tag}: audit CronJob runs `hookguard audit-db`", ok, str(cj))
    legacy = [e for e in c["env"] if e["name"] == "LEGACY_SECRET"]
    check(f"{tag}: env-var secret from the webhook Secret",
          legacy and legacy[0]["valueFrom"]["secretKeyRef"] == {"name": "hookguard-webhook",
                                                                  "key": "legacy-shared-secret"})
    check(f"{tag}: --pool_size from values", flag(c, "pool_size") == "4")
    check(f"{tag}: hard spread when asked", pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule")
    cfg = assert_configmap(tag, docs, ["vapi", "legacy"])
    if cfg:
        check(f"{tag}: rotation: two key_ids in the vapi profile",
              [s["key_id"] for s in cfg["profiles"][0]["secrets"]] == ["2026-11", "2026-10"])


def test_tls(docs):
    tag = "tls"
    dep, pod, c = assert_common(tag, docs, tls=True, front_proxy=False)
    base = "/run/secrets/hookguard-tls"
    check(f"{tag}: server TLS flags", flag(c, "tls_cert") == f"{base}/tls.crt" and flag(c, "tls_key") == f"{base}/tls.key")
    check(f"{tag}: mTLS --client_ca and --allowed_clients",
          flag(c, "client_ca") == f"{base}/ca.crt"
          and flag(c, "allowed_clients") == "web.web.svc,hookguard.hookguard.svc", str(c["args"]))
    vol = [v for v in pod["volumes"] if v["name"] == "tls"]
    mnt = [m for m in c["volumeMounts"] if m["name"] == "tls"]
    check(f"{tag}: TLS Secret mounted read-only",
          vol and vol[0]["secret"]["secretName"] == "hookguard-tls" and mnt and mnt[0]["readOnly"] is True)
    tc = test_pod(docs)["spec"]["containers"][0]
    check(f"{tag}: probes dial 127.0.0.1 and verify the configured server name",
          all("--target=127.0.0.1:50051" in c[p]["exec"]["command"]
              and "--tls_server_name=hookguard.hookguard.svc" in c[p]["exec"]["command"]
              for p in ("startupProbe", "readinessProbe", "livenessProbe")))
    check(f"{tag}: test Pod uses the CA and a client cert",
          "--tls_server_name=hookguard.hookguard.svc" in tc["args"] and f"--tls_ca={base}/ca.crt" in tc["args"] and f"--tls_cert={base}/tls.crt" in tc["args"]
          and any(m["mountPath"] == base for m in tc.get("volumeMounts", [])))


def test_front_proxy_tls(docs):
    """ci/front-proxy-tls-values.yaml: TLS ended by nginx, hookguard-server on
    127.0.0.1:50060 in plaintext, the test Pod over TLS without a client
    certificate (no mTLS with the front proxy)."""
    tag = "front-proxy-tls"
    dep, pod, c = assert_common(tag, docs, tls=True, front_proxy=True, upstream=50060)
    conf = nginx_conf(docs) or ""
    check(f"{tag}: nginx.conf: worker_processes and error_log level from values",
          "worker_processes 2;" in conf and "error_log stderr info;" in conf, conf)
    tc = test_pod(docs)["spec"]["containers"][0]
    check(f"{tag}: test Pod checks the Service over TLS (CA, server name), no client certificate",
          "--tls_ca=/run/secrets/hookguard-tls/ca.crt" in tc["args"]
          and "--tls_server_name=hookguard.hookguard.svc" in tc["args"]
          and not any(a.startswith(("--tls_cert=", "--tls_key=")) for a in tc["args"]), str(tc["args"]))
    np_ = one(docs, "NetworkPolicy")
    check(f"{tag}: NetworkPolicy admits the web tier on the named port grpc (nginx's)",
          np_ is not None and {"port": "grpc", "protocol": "TCP"} in np_["spec"]["ingress"][0]["ports"])


def test_stripe(docs):
    tag = "stripe"
    assert_common(tag, docs)
    cfg = assert_configmap(tag, docs, ["vapi", "stripe"])
    if cfg:
        check(f"{tag}: the profiles name their preset, as docs/reference/signatures.md does",
              [p.get("preset") for p in cfg["profiles"]] == ["vapi", "stripe"], str(cfg))
    _, _, c = server_pod(docs)
    stripe = [e for e in c.get("env", []) if e["name"] == "STRIPE_WEBHOOK_SECRET"]
    check(f"{tag}: the stripe secret's env var from the webhook Secret",
          stripe and stripe[0]["valueFrom"]["secretKeyRef"] == {"name": "hookguard-webhook",
                                                                 "key": "stripe-webhook-secret"})


def test_rendered_configs_pass_the_server():
    """Every config.json the tests above rendered is one the server starts with."""
    if not check("check_config: hookguard-server is built", os.access(SERVER, os.X_OK),
                 f"{SERVER} not found: build it first (scripts/build.sh) or set HOOKGUARD_BUILD_DIR"):
        return
    # (front-proxy-tls-values.yaml keeps the default config, as minimal does.)
    check("check_config: the ci files' configs were collected", len(RENDERED_CONFIGS) >= len(CI_FILES) - 1,
          f"{len(RENDERED_CONFIGS)} configs")
    for config_json, label in RENDERED_CONFIGS.items():
        code, out = server_check_config(config_json)
        check(f"hookguard-server --check_config accepts the config of {label}", code == 0, out[-600:])


# Configs the chart renders (their shape is right) and the server refuses:
# (name, profile, what the server's message must say).
SERVER_REFUSES = [
    ("kind: stripe (a preset's name written as a kind)", {"kind": "stripe"}, 'kind: unknown \"stripe\"'),
    ("a timestamp read but not signed",
     {"kind": "hmac", "timestamp_header": "x-ts", "payload_format": "{body}"}, "does not sign it"),
    ("an option of another kind", {"preset": "stripe", "header": "x-vapi-secret"},
     'header: not an option of kind \"hmac\"'),
]


def test_server_refuses_what_the_chart_only_shapes():
    secret = {"key_id": "a", "file": "/run/secrets/hookguard/vapi-webhook-secret"}
    for name, profile, says in SERVER_REFUSES:
        overrides = {"config": {"profiles": [{"name": "vapi", **profile, "secrets": [secret]}]}}
        ok, docs = render(ci("minimal-values.yaml"), values_file(overrides), check_config=False)
        if not check(f"{name}: renders (the chart checks the config's shape only)", ok,
                     "" if ok else docs[-400:]):
            continue
        code, out = server_check_config(
            one(docs, "ConfigMap", lambda d: "config.json" in d["data"])["data"]["config.json"])
        check(f"{name}: hookguard-server --check_config refuses it", code == 1 and says in out,
              f"exit {code}: {out[-400:]}")


def test_variants():
    base = ci("minimal-values.yaml")
    # Metrics off: no port, no flag, ServiceMonitor stays off.
    ok, docs = render(base, values_file({"metrics": {"enabled": False}}))
    if check("variant metrics off renders", ok, "" if ok else docs[-500:]):
        _, _, c = server_pod(docs)
        svc = service(docs, "t-hookguard")
        check("variant metrics off: no metrics port, no --metrics_listen",
              flag(c, "metrics_listen") is None and all(p["name"] != "metrics" for p in svc["spec"]["ports"])
              and all(p["name"] != "metrics" for p in c.get("ports", [])))
    # No config file: default profile from VAPI_WEBHOOK_SECRET.
    ok, docs = render(base, values_file({"config": None, "webhookSecrets": {"mount": False,
                                                                          "env": {"VAPI_WEBHOOK_SECRET": "vapi"}}}))
    if check("variant config null with VAPI_WEBHOOK_SECRET renders", ok, "" if ok else docs[-500:]):
        dep, pod, c = server_pod(docs)
        env = [e for e in c["env"] if e["name"] == "VAPI_WEBHOOK_SECRET"]
        check("variant config null: no ConfigMap, no --config, no checksum; secret env from Secret",
              not [d for d in kinds(docs, "ConfigMap") if "config.json" in d["data"]]
              and flag(c, "config") is None
              and "checksum/config" not in dep["spec"]["template"]["metadata"].get("annotations", {})
              and env and env[0]["valueFrom"]["secretKeyRef"] == {"name": "hookguard-webhook", "key": "vapi"})
    # Config change changes the checksum (pods roll).
    ok1, d1 = render(base)
    ok2, d2 = render(base, values_file({"config": {"default_profile": "vapi", "profiles": [
        {"name": "vapi", "kind": "hmac", "tolerance_seconds": 60,
         "secrets": [{"key_id": "primary", "file": "/run/secrets/hookguard/vapi-webhook-secret"}]}]}}))
    if ok1 and ok2:
        a1 = server_pod(d1)[0]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        a2 = server_pod(d2)[0]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        check("variant config change changes checksum/config", a1 != a2)
    else:
        check("variant config change renders", False)
    # Image digest pins the image.
    digest = "sha256:" + hashlib.sha256(b"x").hexdigest()
    ok, docs = render(base, values_file({"image": {"repository": "r/hookguard", "digest": digest}}))
    check("variant image digest pins the image", ok and server_pod(docs)[2]["image"] == f"r/hookguard@{digest}")
    # NetworkPolicy with only a podSelector: same namespace only.
    ok, docs = render(base, values_file({"networkPolicy": {"enabled": True, "webTier": {
        "podSelector": {"matchLabels": {"tier": "web"}}}}}))
    if check("variant networkPolicy podSelector only renders", ok, "" if ok else docs[-500:]):
        rule = one(docs, "NetworkPolicy")["spec"]["ingress"][0]
        check("variant networkPolicy podSelector only: peer without namespaceSelector",
              rule["from"][0] == {"podSelector": {"matchLabels": {"tier": "web"}}}, str(rule))
    # TLS without serverName: the Service's DNS name.
    ok, docs = render(base, values_file({"tls": {"enabled": True, "existingSecret": "t"}}))
    check("variant TLS default server name is <fullname>.<namespace>.svc",
          ok and "--tls_server_name=t-hookguard.hg.svc" in test_pod(docs)["spec"]["containers"][0]["args"])
    ok, docs = render(base, values_file({"tls": {"enabled": True, "existingSecret": "t"},
                                         "frontProxy": {"enabled": False}}))
    check("variant TLS without the front proxy: the probes verify <fullname>.<namespace>.svc",
          ok and "--tls_server_name=t-hookguard.hg.svc" in server_pod(docs)[2]["readinessProbe"]["exec"]["command"])
    # Ownership cache flag passed when on.
    ok, docs = render(base, values_file({"server": {"ownershipCacheTtlMs": 500}}))
    check("variant ownershipCacheTtlMs 500 passes --ownership_cache_ttl_ms=500",
          ok and flag(server_pod(docs)[2], "ownership_cache_ttl_ms") == "500")
    # Front proxy off: hookguard-server takes the gRPC port itself, on all
    # addresses, with the kubelet's native gRPC probes; no sidecar, no nginx.conf.
    ok, docs = render(base, values_file({"frontProxy": {"enabled": False}}))
    if check("variant frontProxy off renders", ok, "" if ok else docs[-500:]):
        assert_common("variant frontProxy off", docs, front_proxy=False)
        _, pod, c = server_pod(docs)
        check("variant frontProxy off: hookguard-server on 0.0.0.0:50051 with the grpc port, "
              "no front-proxy ConfigMap or checksum",
              flag(c, "listen") == f"0.0.0.0:{GRPC_PORT}"
              and {"name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP"} in c["ports"]
              and nginx_conf(docs) is None
              and "checksum/front-proxy" not in server_pod(docs)[0]["spec"]["template"]["metadata"].get(
                  "annotations", {}), str(c["args"]))
    # Front proxy, TLS and the server's limits: nginx applies the same numbers.
    ok, docs = render(base, values_file({"server": {"port": 6000, "maxConcurrentStreams": 50,
                                                    "maxBodyBytes": 1048576, "maxConnectionAgeSeconds": 0},
                                         "metrics": {"port": 6001}, "frontProxy": {"upstreamPort": 6002}}))
    if check("variant frontProxy with other ports and limits renders", ok, "" if ok else docs[-500:]):
        assert_front_proxy("variant frontProxy ports", docs, upstream=6002, port=6000)
        conf = nginx_conf(docs)
        check("variant frontProxy: nginx.conf takes maxConcurrentStreams, maxBodyBytes + 2 MiB, "
              "and an hour for a connection age of 0",
              "http2_max_concurrent_streams 50;" in conf and f"client_max_body_size {1048576 + 2097152};" in conf
              and "keepalive_time 3600s;" in conf, conf)
        hl = service(docs, "t-hookguard-headless")
        check("variant frontProxy: Services target the named port grpc (nginx's container port)",
              all(p_["targetPort"] == "grpc" for d in (hl, service(docs, "t-hookguard"))
                  for p_ in d["spec"]["ports"] if p_["name"] == "grpc"))
    # Helm test can be turned off.
    ok, docs = render(base, values_file({"tests": {"enabled": False}}))
    check("variant tests.enabled false: no test Pod", ok and test_pod(docs) is None)
    test_headless_variants(base)


def test_headless_variants(base):
    # Off: only the Service, and NOTES names no headless target.
    off = values_file({"service": {"headless": {"enabled": False}}})
    ok, docs = render(base, off)
    check("variant service.headless.enabled false: one Service, no headless one",
          ok and [d["metadata"]["name"] for d in kinds(docs, "Service")] == ["t-hookguard"])
    p = subprocess.run([HELM, "install", "t", CHART, "-n", "hg", "-f", base, "-f", off, "--dry-run=client"],
                       capture_output=True, text=True)
    check("variant service.headless.enabled false: NOTES without the headless target",
          p.returncode == 0 and "NOTES:" in p.stdout and "headless" not in p.stdout.split("NOTES:", 1)[1])
    # Another port: the headless Service follows service.port.
    ok, docs = render(base, values_file({"service": {"port": 6000}}))
    hl = ok and service(docs, "t-hookguard-headless")
    check("variant service.port 6000: headless Service port 6000 to targetPort grpc",
          bool(hl) and hl["spec"]["ports"] == [{"name": "grpc", "port": 6000, "targetPort": "grpc",
                                                "protocol": "TCP", "appProtocol": "grpc"}], str(hl))
    # A full name of 63 characters: the headless name stays a DNS label.
    long = "h" * 63
    ok, docs = render(base, values_file({"fullnameOverride": long}))
    names = ok and [d["metadata"]["name"] for d in kinds(docs, "Service")]
    check("variant 63-character fullnameOverride: headless name is a 63-character DNS label",
          bool(names) and sorted(names) == sorted([long, "h" * 54 + "-headless"]), str(names))
    # The name the docs give: release "hookguard", as docs/how-to/deploy-helm.md installs it.
    ok, docs = render(base, release="hookguard", namespace="hookguard")
    check("variant release hookguard: the headless Service is hookguard-headless",
          ok and service(docs, "hookguard-headless") is not None)
    for doc in ("reference/clients.md", "how-to/deploy-helm.md"):
        text = open(os.path.join(REPO, "docs", doc)).read()
        check(f"docs/{doc} gives the chart's headless target dns:///hookguard-headless.",
              "dns:///hookguard-headless." in text)


def test_values_commented():
    """Every value in values.yaml carries a comment: a key has a comment line
    right above it, or sits inside a block whose key has one (e.g. resources),
    or is a grouping key (image:) whose every child is commented."""
    lines = open(os.path.join(CHART, "values.yaml")).read().splitlines()
    keys = []  # (indent, name, commented, parent index)
    stack = []
    for i, line in enumerate(lines):
        m = re.match(r"^( *)([A-Za-z_][A-Za-z0-9_]*):", line)
        if not m:
            continue
        indent = len(m.group(1))
        while stack and keys[stack[-1]][0] >= indent:
            stack.pop()
        prev = lines[i - 1].strip() if i else ""
        keys.append((indent, m.group(2), prev.startswith("#"), stack[-1] if stack else None))
        stack.append(len(keys) - 1)
    children = {}
    for idx, k in enumerate(keys):
        children.setdefault(k[3], []).append(idx)

    def covered_by_ancestor(idx):
        parent = keys[idx][3]
        while parent is not None:
            if keys[parent][2]:
                return True
            parent = keys[parent][3]
        return False

    def documented(idx):
        if keys[idx][2] or covered_by_ancestor(idx):
            return True
        kids = children.get(idx, [])
        return bool(kids) and all(documented(c) for c in kids)

    missing = [keys[i][1] for i in range(len(keys)) if not documented(i)]
    check("values.yaml: a comment on every value", not missing, f"uncommented: {missing}")


def test_dockerfile_matches_chart():
    """The image and the chart agree: UID, ports, entrypoint, package list file."""
    with open(os.path.join(REPO, "Dockerfile")) as f:
        dockerfile = f.read()
    with open(os.path.join(CHART, "values.yaml")) as f:
        values = yaml.safe_load(f)
    uid = values["podSecurityContext"]["runAsUser"]
    check("Dockerfile: user created with the chart's UID/GID",
          f"--uid {uid}" in dockerfile and f"--gid {values['podSecurityContext']['runAsGroup']}" in dockerfile)
    check("Dockerfile: numeric USER equals the chart's UID", re.search(rf"^USER {uid}(:\d+)?$", dockerfile, re.M) is not None)
    expose = re.search(r"^EXPOSE (.+)$", dockerfile, re.M)
    check("Dockerfile: EXPOSE has the gRPC and metrics ports",
          expose is not None and {str(values["server"]["port"]), str(values["metrics"]["port"])} <= set(expose.group(1).split()))
    check("Dockerfile: ENTRYPOINT hookguard-server", 'ENTRYPOINT ["hookguard-server"]' in dockerfile)
    check("Dockerfile: runtime packages from scripts/image-runtime-packages.txt",
          "COPY scripts/image-runtime-packages.txt" in dockerfile)
    runtime = [line.split("#")[0].strip() for line in
               open(os.path.join(REPO, "scripts", "image-runtime-packages.txt")).read().splitlines()]
    check("image: ships nginx (the front proxy sidecar runs the same image)", "nginx" in runtime)
    check("Dockerfile: runtime on debian:12-slim, build on debian:12 (build arguments' defaults)",
          re.search(r"^ARG BUILD_IMAGE=debian:12$", dockerfile, re.M)
          and re.search(r"^ARG RUNTIME_IMAGE=debian:12-slim$", dockerfile, re.M)
          and re.search(r"^FROM \$\{BUILD_IMAGE\} AS build$", dockerfile, re.M)
          and re.search(r"^FROM \$\{RUNTIME_IMAGE\} AS runtime$", dockerfile, re.M))
    check("chart appVersion equals the CMake project version",
          yaml.safe_load(open(os.path.join(CHART, "Chart.yaml")))["appVersion"]
          == re.search(r"project\(hookguard VERSION ([0-9.]+)", open(os.path.join(REPO, "CMakeLists.txt")).read()).group(1))


# ---------------------------------------------------------------------------
# The Kubernetes API's schemas (kubernetes-validate, from PyPI into .venv).

VENV_BIN = os.path.join(REPO, ".venv", "bin")
# prometheus-operator's custom resources are not part of the Kubernetes API:
# kubernetes-validate has no schema for them. Only these may go unvalidated.
CUSTOM_RESOURCES = {("monitoring.coreos.com/v1", "ServiceMonitor"),
                    ("monitoring.coreos.com/v1", "PrometheusRule")}


def kube_versions():
    """(oldest, newest): the lower bound of Chart.yaml's kubeVersion, and the
    newest Kubernetes version whose schemas kubernetes-validate ships."""
    kube = yaml.safe_load(open(os.path.join(CHART, "Chart.yaml")))["kubeVersion"]
    m = re.fullmatch(r">=\s*(\d+\.\d+\.\d+)(-0)?", kube)
    p = subprocess.run([os.path.join(VENV_BIN, "python"), "-c",
                        "import kubernetes_validate.utils as u; print(u.latest_version())"],
                       capture_output=True, text=True)
    return (m.group(1) if m else None), (p.stdout.strip() if p.returncode == 0 else None)


def kubernetes_validate(docs, version):
    """Validates `docs` with `kubernetes-validate --strict -k version`. Returns
    (ok, detail): ok only when every manifest passed against that version,
    except the custom resources above, which have no schema."""
    path = os.path.join(TMP, f"manifests-{version}.yaml")
    with open(path, "w") as f:
        yaml.safe_dump_all(docs, f)
    p = subprocess.run([os.path.join(VENV_BIN, "kubernetes-validate"), "--strict", "-k", version, path],
                       capture_output=True, text=True)
    minor = ".".join(version.split(".")[:2])
    passed_ = set(re.findall(rf"passed for resource (\S+) against version {re.escape(minor)}$", p.stdout, re.M))
    unchecked = [f"{d['apiVersion']} {d['kind']}" for d in docs
                 if f"{d['kind'].lower()}/{d['metadata']['name']}" not in passed_
                 and (d["apiVersion"], d["kind"]) not in CUSTOM_RESOURCES]
    errors = [line for line in (p.stdout + p.stderr).splitlines() if line.startswith(("ERROR", "FATAL"))]
    ok = p.returncode == 0 and not errors and not unchecked
    return ok, "; ".join(errors + [f"not validated: {u}" for u in unchecked])[-1200:]


def test_kubernetes_schemas():
    oldest, newest = kube_versions()
    if not check("kubernetes-validate: Chart.yaml kubeVersion has a lower bound; the newest version known",
                 oldest and newest, f"kubeVersion lower bound {oldest}, newest {newest}: run scripts/setup.sh"):
        return
    # Each ci file rendered for each version (helm's --kube-version), then
    # validated against it. ci/minimal-values.yaml is the defaults plus the two
    # Secrets a release needs (the defaults alone refuse to render: both are
    # required).
    base = None
    for name in CI_FILES:
        for version in (oldest, newest):
            ok, docs = render(ci(name), kube_version=version)
            if ok:
                ok, detail = kubernetes_validate(docs, version)
                base = base or docs
            else:
                detail = docs[-600:]
            check(f"kubernetes-validate --strict -k {version} {name}: every manifest valid", ok, detail)
    major, minor, _ = oldest.split(".")
    older = f"{major}.{int(minor) - 1}.0"
    ok, out = render(ci("minimal-values.yaml"), kube_version=older)
    check(f"helm refuses Kubernetes {older}, older than the chart supports", not ok and "kubeVersion" in out,
          str(out)[-300:])
    # The check can fail: a misspelt field and an API version Kubernetes
    # removed (policy/v1beta1 PDB, gone in 1.25) must both be reported.
    if base:
        typo = json.loads(json.dumps(base))
        one(typo, "Deployment")["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
        ok, detail = kubernetes_validate(typo, newest)
        check("kubernetes-validate --strict rejects an unknown field (readinesProbe)",
              not ok and "readinesProbe" in detail, detail)
        removed = json.loads(json.dumps(base))
        one(removed, "PodDisruptionBudget")["apiVersion"] = "policy/v1beta1"
        ok, detail = kubernetes_validate(removed, oldest)
        check(f"kubernetes-validate: a removed API version (policy/v1beta1) fails against {oldest}",
              not ok and "policy/v1beta1" in detail, detail)


# Values that must not render: (name, overrides, expected message fragment).
REJECTIONS = [
    ("wrong type: replicaCount string", {"replicaCount": "two"}, "replicaCount"),
    ("wrong type: server.port string", {"server": {"port": "50051"}}, "port"),
    ("wrong type: metrics.enabled string", {"metrics": {"enabled": "yes"}}, "enabled"),
    ("unknown top-level key", {"replicas": 3}, "replicas"),
    ("unknown nested key (typo)", {"autoscaling": {"enable": True}}, "enable"),
    ("bad enum: image.pullPolicy", {"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
    ("HPA minReplicas > maxReplicas",
     {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}, "minReplicas (5) is greater"),
    ("TLS enabled without a Secret", {"tls": {"enabled": True}}, "existingSecret"),
    ("mTLS without TLS", {"tls": {"clientAuth": {"enabled": True}}}, "needs tls.enabled"),
    ("allowedClients without mTLS", {"tls": {"enabled": True, "existingSecret": "s",
                                             "clientAuth": {"allowedClients": ["a"]}}}, "allowedClients"),
    ("DB Secret missing", {"database": {"existingSecret": ""}}, "database.existingSecret is required"),
    ("webhook Secret missing", {"webhookSecrets": {"existingSecret": ""}}, "webhookSecrets.existingSecret is required"),
    ("ServiceMonitor with metrics disabled",
     {"metrics": {"enabled": False}, "serviceMonitor": {"enabled": True}}, "metrics"),
    ("NetworkPolicy with no allowed selectors", {"networkPolicy": {"enabled": True}}, "webTier"),
    ("NetworkPolicy egress without database peers",
     {"networkPolicy": {"enabled": True, "webTier": {"podSelector": {"matchLabels": {"a": "b"}}},
                        "egress": {"enabled": True}}}, "databaseTo"),
    ("inline secret in config",
     {"config": {"profiles": [{"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "a", "value": "s3cr3t"}]}]}},
     "value"),
    ("config secret env not provided",
     {"config": {"profiles": [{"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "a", "env": "NOPE"}]}]}},
     "NOPE"),
    ("config secret file outside any mount",
     {"config": {"profiles": [{"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "a", "file": "/etc/x"}]}]}},
     "/etc/x"),
    ("config secret with both env and file",
     {"webhookSecrets": {"env": {"E": "k"}},
      "config": {"profiles": [{"name": "vapi", "kind": "hmac",
                               "secrets": [{"key_id": "a", "env": "E", "file": "/run/secrets/hookguard/x"}]}]}},
     "secrets"),
    ("config default_profile unknown",
     {"config": {"default_profile": "nope"}}, "nope"),
    ("no config and no VAPI_WEBHOOK_SECRET", {"config": None}, "VAPI_WEBHOOK_SECRET"),
    ("grace period too short for preStop + drain",
     {"lifecycle": {"terminationGracePeriodSeconds": 20}}, "terminationGracePeriodSeconds"),
    ("readOnlyRootFilesystem false", {"securityContext": {"readOnlyRootFilesystem": False}}, "readOnlyRootFilesystem"),
    ("runAsNonRoot false", {"podSecurityContext": {"runAsNonRoot": False}}, "runAsNonRoot"),
    ("PDB minAvailable and maxUnavailable both set",
     {"podDisruptionBudget": {"minAvailable": 1, "maxUnavailable": 1}}, "not both"),
    ("PDB minAvailable >= replicas", {"podDisruptionBudget": {"minAvailable": 2}}, "below the replica count"),
    ("metrics port equals gRPC port", {"metrics": {"port": 50051}}, "metrics.port"),
    ("HPA without any target", {"autoscaling": {"enabled": True, "targetCPUUtilizationPercentage": None}},
     "targetCPUUtilizationPercentage"),
    ("front proxy with mTLS (nginx would end TLS: hookguard never sees the client certificate)",
     {"tls": {"enabled": True, "existingSecret": "s", "clientAuth": {"enabled": True}}},
     "frontProxy.enabled and tls.clientAuth.enabled cannot both be on"),
    ("front proxy upstreamPort equals server.port", {"frontProxy": {"upstreamPort": 50051}},
     "frontProxy.upstreamPort must differ from server.port"),
    ("front proxy upstreamPort equals metrics.port", {"frontProxy": {"upstreamPort": 9090}},
     "frontProxy.upstreamPort must differ from metrics.port"),
    ("front proxy upstreamPort below 1024", {"frontProxy": {"upstreamPort": 80}}, "upstreamPort"),
    ("front proxy on a privileged port (nginx runs as UID 10001 without capabilities)",
     {"server": {"port": 443}}, "server.port (443) is below 1024"),
    ("front proxy unknown logLevel", {"frontProxy": {"logLevel": "verbose"}}, "logLevel"),
    ("front proxy without resource limits", {"frontProxy": {"resources": {"limits": None}}}, "limits"),
]


def test_rejections():
    base = ci("minimal-values.yaml")
    for name, overrides, fragment in REJECTIONS:
        ok, out = render(base, values_file(overrides))
        if ok:
            check(f"reject {name}", False, "rendered, but should have failed")
        else:
            check(f"reject {name}", fragment in out, f"failed, but without {fragment!r}: {out.strip()[-400:]}")


# ---------------------------------------------------------------------------
# Alerts (prometheusRule) and the audit CronJob's flags: a separate check,
# owned with the operator tools (tools/hookguard/operator_commands.cc).

def audit_db_flags_of_the_cli():
    """The flag names `hookguard audit-db` accepts, read from its registration
    in tools/hookguard/main.cc's Commands() table."""
    src = open(os.path.join(REPO, "tools", "hookguard", "main.cc")).read()
    m = re.search(r'\{"audit-db",.*?\{([^{}]*)\},\s*false,\s*RunAuditDb\}', src, re.S)
    if not m:
        return set()
    return set(re.findall(r'"([a-z_]+)"', m.group(1)))


def test_audit_cronjob_flags():
    flags = audit_db_flags_of_the_cli()
    check("alerts: audit-db's flags found in tools/hookguard/main.cc", {"db", "config", "format"} <= flags,
          f"got {sorted(flags)}")
    for tag, extra in (("json", {}), ("table", {"auditCronJob": {"format": "table"}})):
        ok, docs = render(ci("minimal-values.yaml"), values_file(
            {"auditCronJob": {"enabled": True, **extra.get("auditCronJob", {})}}))
        check(f"alerts: audit CronJob renders ({tag})", ok, docs if not ok else "")
        if not ok:
            continue
        job = one(docs, "CronJob")
        c = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        args = c["args"]
        check(f"alerts: CronJob runs `hookguard audit-db` ({tag})",
              c["command"] == ["hookguard"] and args[0] == "audit-db", f"{c['command']} {args}")
        names = [a[2:].split("=", 1)[0] for a in args[1:]]
        check(f"alerts: every CronJob flag is one audit-db accepts ({tag})",
              all(a.startswith("--") for a in args[1:]) and set(names) <= flags,
              f"{args} vs {sorted(flags)}")
        fmt = [a.split("=", 1)[1] for a in args[1:] if a.startswith("--format=")]
        check(f"alerts: CronJob --format is table or json ({tag})",
              fmt == [extra.get("auditCronJob", {}).get("format", "json")], f"{fmt}")
        check(f"alerts: CronJob --db comes from the secret env ({tag})",
              "--db=$(HOOKGUARD_DB)" in args and any(e["name"] == "HOOKGUARD_DB" for e in c["env"]),
              f"{args}")


def test_prometheus_rule():
    base = ci("minimal-values.yaml")
    ok, docs = render(base)
    check("alerts: no PrometheusRule by default", ok and not kinds(docs, "PrometheusRule"))
    ok, docs = render(base, values_file({"prometheusRule": {
        "enabled": True, "labels": {"release": "kps"}, "additionalAlertLabels": {"team": "voice"},
        "oldSigningKeys": {"keyIds": ["2026-10", "v1.legacy"]}}}), namespace="hooks")
    check("alerts: PrometheusRule renders", ok, docs if not ok else "")
    if not ok:
        return
    rule = one(docs, "PrometheusRule")
    check("alerts: PrometheusRule labels", rule["metadata"]["labels"].get("release") == "kps")
    rules = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    check("alerts: the six alerts", sorted(rules) == sorted([
        "HookguardCrossUserDenies", "HookguardSignatureFailures", "HookguardDatabaseDown",
        "HookguardDatabaseErrors", "HookguardOldSigningKeyInUse", "HookguardShadowDenies"]),
          f"{sorted(rules)}")
    expected = {
        "HookguardCrossUserDenies":
            'sum(rate(hookguard_requests_total{namespace="hooks",decision="DECISION_DENY",'
            'reason=~"DENY_REASON_(ASSISTANT_MISMATCH|ASSISTANT_OWNER_MISMATCH|PHONE_NUMBER_MISMATCH|'
            'PHONE_NUMBER_OWNER_MISMATCH|OWNER_MISMATCH)"}[5m])) > 0.05',
        "HookguardSignatureFailures":
            'sum(rate(hookguard_signature_results_total{namespace="hooks",'
            'result!="SIGNATURE_RESULT_VALID"}[10m])) / '
            'sum(rate(hookguard_signature_results_total{namespace="hooks"}[10m])) > 0.1',
        "HookguardDatabaseDown": 'min(hookguard_db_up{namespace="hooks"}) == 0',
        "HookguardDatabaseErrors": 'sum(rate(hookguard_db_errors_total{namespace="hooks"}[5m])) > 0',
        "HookguardOldSigningKeyInUse":
            'sum by (profile, key_id) (increase(hookguard_signature_results_total{namespace="hooks",'
            'result="SIGNATURE_RESULT_VALID",key_id=~"2026-10|v1\\\\.legacy"}[1h])) > 0',
        "HookguardShadowDenies":
            'sum by (profile, reason) (increase(hookguard_shadow_denies_total{namespace="hooks"}'
            '[15m])) > 0',
    }
    for name, expr in expected.items():
        got = rules.get(name, {}).get("expr", "")
        check(f"alerts: {name} expression", got == expr, f"got {got!r}, want {expr!r}")
    check("alerts: severities and extra labels",
          all(r["labels"].get("team") == "voice" and r["labels"].get("severity") for r in rules.values()))
    check("alerts: for durations", rules.get("HookguardDatabaseDown", {}).get("for") == "2m")
    # Every deny reason an alert names is one the service exports.
    proto = open(os.path.join(REPO, "protos", "hookguard", "v1", "hookguard.proto")).read()
    named = re.findall(r"[A-Z_]+_MISMATCH", rules.get("HookguardCrossUserDenies", {}).get("expr", ""))
    check("alerts: deny reasons exist in the proto",
          named and all(f"DENY_REASON_{n}" in proto for n in named), f"{named}")
    # Without old key ids there is no old-key alert; values are checked.
    ok, docs = render(base, values_file({"prometheusRule": {"enabled": True}}))
    names = [r["alert"] for d in kinds(docs, "PrometheusRule") for g in d["spec"]["groups"]
             for r in g["rules"]] if ok else []
    check("alerts: no old-key alert without keyIds", ok and "HookguardOldSigningKeyInUse" not in names)
    for what, overrides in (
            ("a PrometheusRule without metrics", {"prometheusRule": {"enabled": True},
                                                  "metrics": {"enabled": False}}),
            ("a ratio above 1", {"prometheusRule": {"signatureFailures": {"ratio": 2}}}),
            ("a key id with a quote", {"prometheusRule": {"oldSigningKeys": {"keyIds": ['a"b']}}}),
            ("an unknown alert key", {"prometheusRule": {"crossUserDenied": {}}})):
        ok, _ = render(base, values_file(overrides))
        check(f"alerts: reject {what}", not ok)


def main():
    print(f"helm: {HELM} ({subprocess.run([HELM, 'version', '--short'], capture_output=True, text=True).stdout.strip()})")
    rendered = test_ci_files()
    for name, fn in (("minimal-values.yaml", test_minimal), ("production-values.yaml", test_production),
                     ("tls-values.yaml", test_tls), ("stripe-values.yaml", test_stripe),
                     ("front-proxy-tls-values.yaml", test_front_proxy_tls)):
        if name in rendered:
            try:
                fn(rendered[name])
            except Exception as e:  # noqa: BLE001
                import traceback
                traceback.print_exc()
                check(f"{name}: assertions ran to the end", False, repr(e))
    try:
        test_kubernetes_schemas()
        test_values_commented()
        test_dockerfile_matches_chart()
        test_variants()
        test_rejections()
        test_audit_cronjob_flags()
        test_prometheus_rule()
        test_server_refuses_what_the_chart_only_shapes()
        test_rendered_configs_pass_the_server()
    except Exception as e:  # noqa: BLE001 -- a crash is a failure, with the summary still printed
        import traceback
        traceback.print_exc()
        check("test script ran to the end", False, repr(e))
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
