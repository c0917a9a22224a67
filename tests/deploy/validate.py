#!/usr/bin/env python3
"""`make deploy-test`: deploy/kubernetes/*.yaml checked offline.

1. kubernetes-validate --strict (the JSON schemas of the Kubernetes
   version KUBE_VERSION that the package carries; unknown fields rejected),
   and the same on a broken copy, which must fail (the check can fail);
2. what issue 17 asks of the Deployment, read from the YAML: REPLICAS
   replicas, readiness and liveness probes on a port the container names,
   CPU and memory limits, a read-only root file system, runAsNonRoot with
   a non-zero user, /data on a volume; and a Service whose selector matches
   the pods and whose targetPort the container has.

No cluster is involved: nothing here schedules a pod, pulls the image or
probes it (tests/image/image_test.py runs the image in podman).

Run with the venv of `scripts/setup.sh kube` (it has PyYAML):
  target/kube-venv/bin/python tests/deploy/validate.py
"""
import glob
import os
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bedrock_test import REPO, Report  # noqa: E402

# The Kubernetes release validated against: the manifests use no field newer.
KUBE_VERSION = "1.30.0"
REPLICAS = 3
MANIFESTS = os.path.join(REPO, "deploy", "kubernetes")
VALIDATE = os.path.join(os.path.dirname(sys.executable), "kubernetes-validate")


def validate(paths):
    return subprocess.run([VALIDATE, "--strict", "-k", KUBE_VERSION, *paths], capture_output=True, text=True)


def main():
    report = Report("deploy-test")
    paths = sorted(glob.glob(os.path.join(MANIFESTS, "*.yaml")))
    out = validate(paths)
    report.check(f"kubernetes-validate --strict -k {KUBE_VERSION}: {len(paths)} files",
                 out.returncode == 0 and len(paths) >= 2, out.stdout + out.stderr)
    docs = [d for p in paths for d in yaml.safe_load_all(open(p)) if d]
    by_kind = {d["kind"]: d for d in docs}

    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as broken:
        bad = yaml.safe_load(yaml.safe_dump(by_kind["Deployment"]))
        bad["spec"]["replicas"] = "three"
        bad["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
        yaml.safe_dump(bad, broken)
        broken.flush()
        out = validate([broken.name])
        report.check("a broken copy (replicas: \"three\", a misspelt field) fails validation",
                     out.returncode != 0, out.stdout)

    dep, svc = by_kind.get("Deployment"), by_kind.get("Service")
    if not report.check("a Deployment and a Service", dep is not None and svc is not None, list(by_kind)):
        return report.summary()
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    report.check(f"{REPLICAS} replicas", spec.get("replicas") == REPLICAS, spec.get("replicas"))
    for probe in ("readinessProbe", "livenessProbe"):
        get = c.get(probe, {}).get("httpGet", {})
        report.check(f"{probe}: httpGet {get.get('path')} on a port of the container",
                     get.get("path", "").startswith("/") and (get.get("port") in ports or get.get("port") in ports.values()),
                     c.get(probe))
    limits = c.get("resources", {}).get("limits", {})
    report.check(f"CPU and memory limits ({limits})", "cpu" in limits and "memory" in limits)
    sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
    report.check("readOnlyRootFilesystem", sc.get("readOnlyRootFilesystem") is True)
    nonroot = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    report.check(f"runAsNonRoot with user {uid}", nonroot is True and isinstance(uid, int) and uid > 0)
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"] for v in pod.get("volumes", [])}
    report.check("/data is a volume", mounts.get("/data") in volumes, (mounts, volumes))
    report.check("the server is told --data /data", "/data" in c.get("args", []), c.get("args"))
    labels = spec["template"]["metadata"]["labels"]
    selector = svc["spec"].get("selector", {})
    report.check("the Service selects the Deployment's pods",
                 selector and all(labels.get(k) == v for k, v in selector.items()), (selector, labels))
    report.check("the Service's targetPorts are the container's",
                 all(p.get("targetPort") in ports or p.get("targetPort") in ports.values()
                     for p in svc["spec"]["ports"]), svc["spec"]["ports"])
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
