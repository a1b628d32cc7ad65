#!/usr/bin/python3
"""Renders the chart with a values file and writes, as plain line files,
what test_runtime_rootfs.sh needs to run the server exactly as the chart's
Deployment would: the container args, the secret env var names, the config
file, the secret files the config reads, the TLS mount, and the readiness
probe. Usage: render_pod.py HELM CHART VALUES OUTDIR

Writes into OUTDIR: args (one per line), env_secrets (names), config.json
(absent without a config), secret_files (paths), readiness (one word per
line: an exec command, or "grpc" and the service name), tls (mountPath,
certKey, keyKey, caKey, serverName when TLS is on).
"""

import json
import os
import subprocess
import sys

import yaml


def main():
    helm, chart, values, out = sys.argv[1:5]
    rendered = subprocess.run([helm, "template", "hookguard", chart, "-n", "hookguard", "-f", values],
                              check=True, capture_output=True, text=True).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    dep = next(d for d in docs if d["kind"] == "Deployment")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    os.makedirs(out, exist_ok=True)

    def write(name, lines):
        with open(os.path.join(out, name), "w") as f:
            f.write("".join(f"{line}\n" for line in lines))

    write("args", c["args"])
    write("env_secrets", [e["name"] for e in c.get("env", [])
                          if e["name"] != "HOOKGUARD_DB" and "secretKeyRef" in e.get("valueFrom", {})])
    cms = [d for d in docs if d["kind"] == "ConfigMap"]
    files = []
    if cms:
        cfg_text = cms[0]["data"]["config.json"]
        with open(os.path.join(out, "config.json"), "w") as f:
            f.write(cfg_text)
        for p in json.loads(cfg_text).get("profiles", []):
            files += [s["file"] for s in p.get("secrets", []) if "file" in s]
    write("secret_files", files)
    probe = c["readinessProbe"]
    if "exec" in probe:
        write("readiness", probe["exec"]["command"])
    else:
        write("readiness", ["grpc", probe["grpc"].get("service", "")])
    tls_mount = [m for m in c["volumeMounts"] if m["name"] == "tls"]
    if tls_mount:
        args = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in c["args"] if "=" in a}
        server_name = next(a.split("=", 1)[1] for a in probe["exec"]["command"]
                           if a.startswith("--tls_server_name="))
        write("tls", [tls_mount[0]["mountPath"], os.path.basename(args["--tls_cert"]),
                      os.path.basename(args["--tls_key"]),
                      os.path.basename(args.get("--client_ca", "/ca.crt")), server_name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
