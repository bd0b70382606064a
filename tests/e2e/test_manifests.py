"""test_manifests.py - what cannot run here is at least checked by reading:
the Kubernetes pod (no cluster), the Alpine Dockerfile (no Alpine
registry) and the image overlay.
"""
import json
import os
import re
import subprocess
import unittest

import e2e

POD = os.path.join(e2e.ROOT, "image", "k8s", "pod.yaml")
DOCKERFILE = os.path.join(e2e.ROOT, "Dockerfile")


def load_yaml(path):
    try:
        import yaml
    except ImportError:
        raise unittest.SkipTest("python3-yaml not installed: cannot parse %s" % path)
    with open(path) as f:
        return yaml.safe_load(f)


class PodManifest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pod = load_yaml(POD)
        cls.ctr = cls.pod["spec"]["containers"][0]

    def test_is_a_pod_with_one_container(self):
        self.assertEqual(self.pod["apiVersion"], "v1")
        self.assertEqual(self.pod["kind"], "Pod")
        self.assertEqual(len(self.pod["spec"]["containers"]), 1)
        self.assertTrue(self.ctr["image"])

    def test_runner_is_pid1(self):
        # No `command`: the image's ENTRYPOINT /sbin/runner is PID 1; the
        # pod passes flags only.  No shareProcessNamespace (the pause
        # process would be PID 1 then).
        self.assertNotIn("command", self.ctr)
        self.assertFalse(self.pod["spec"].get("shareProcessNamespace", False))

    def test_args_are_flags_the_runner_accepts(self):
        e2e.need_built("manifests")
        args = self.ctr.get("args", [])
        # --help after the flags: each flag is parsed (a bad one exits 2)
        # and nothing is started.
        r = subprocess.run([e2e.RUNNER] + args + ["--help"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_hardened_security_context(self):
        psc = self.pod["spec"]["securityContext"]
        csc = self.ctr["securityContext"]
        for sc in (psc, csc):
            self.assertIs(sc["runAsNonRoot"], True)
            self.assertEqual(sc["runAsUser"], 1000)
            self.assertEqual(sc["seccompProfile"]["type"], "RuntimeDefault")
        self.assertIs(csc["allowPrivilegeEscalation"], False)
        self.assertIs(csc["readOnlyRootFilesystem"], True)
        self.assertFalse(csc.get("privileged", False))
        self.assertEqual(csc["capabilities"]["drop"], ["ALL"])
        self.assertNotIn("add", csc["capabilities"])
        self.assertIs(self.pod["spec"]["automountServiceAccountToken"], False)
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            self.assertFalse(self.pod["spec"].get(host, False), host)

    def test_writable_places_are_emptydirs(self):
        vols = {v["name"]: v for v in self.pod["spec"]["volumes"]}
        mounts = {m["mountPath"]: m for m in self.ctr["volumeMounts"]}
        self.assertEqual(set(mounts), {"/workspace", "/tmp", "/home/sandbox"})
        for path, m in mounts.items():
            self.assertIn(m["name"], vols, path)
            self.assertIn("emptyDir", vols[m["name"]], path)
            self.assertFalse(m.get("readOnly", False), path)

    def test_home_is_writable_and_the_sessions_home(self):
        # git config --global and caches need a writable HOME (issue 13.6)
        env = {e["name"]: e["value"] for e in self.ctr.get("env", [])}
        self.assertEqual(env.get("HOME"), "/home/sandbox")
        mounts = {m["mountPath"] for m in self.ctr["volumeMounts"]}
        self.assertIn(env["HOME"], mounts)

    def test_socket_is_where_attach_looks(self):
        # /run is read-only here: the socket must be on /tmp, the place
        # `runner attach` tries after /run.
        args = self.ctr.get("args", [])
        listens = [args[i + 1] for i, a in enumerate(args) if a == "--listen"]
        self.assertIn("unix:/tmp/runner.sock", listens or ["unix:/tmp/runner.sock"])

    def test_grace_fits_inside_termination_grace(self):
        args = self.ctr.get("args", [])
        grace_ms = int(args[args.index("--grace") + 1]) if "--grace" in args else 5000
        self.assertLess(grace_ms / 1000, self.pod["spec"]["terminationGracePeriodSeconds"])


class AlpineDockerfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DOCKERFILE) as f:
            text = f.read()
        # Join continuation lines; drop comments.
        text = re.sub(r"\\\n", " ", text)
        cls.lines = [ln.strip() for ln in text.splitlines()
                     if ln.strip() and not ln.lstrip().startswith("#")]
        cls.stages = []
        for ln in cls.lines:
            if ln.upper().startswith("FROM "):
                cls.stages.append([])
            cls.stages[-1].append(ln)

    def apk_packages(self, stage):
        pkgs = set()
        for ln in stage:
            m = re.search(r"apk add (?:--no-cache )?(.*?)(?:&&|$)", ln)
            if m:
                pkgs |= set(w for w in m.group(1).split() if not w.startswith("-"))
        return pkgs

    def test_two_alpine_stages(self):
        self.assertEqual(len(self.stages), 2)
        self.assertRegex(self.stages[0][0], r"^FROM alpine:3\.21 AS build$")
        self.assertEqual(self.stages[1][0], "FROM alpine:3.21")

    def test_build_stage_matches_tools_deps(self):
        # tools/deps (run by make through mk/deps.mk) checks exactly its
        # own Alpine list; the Dockerfile must install all of it first.
        with open(os.path.join(e2e.ROOT, "tools", "deps")) as f:
            m = re.search(r'alpine/build\)\s+echo "([^"]*)"', f.read())
        self.assertTrue(m)
        self.assertLessEqual(set(m.group(1).split()), self.apk_packages(self.stages[0]))

    def test_build_uses_the_alpine_branch_of_deps_mk(self):
        with open(os.path.join(e2e.ROOT, "mk", "deps.mk")) as f:
            deps = f.read()
        self.assertIn("/etc/alpine-release", deps)
        for lib in re.search(r"DEPS_LDLIBS := (/usr/lib/\S+ /usr/lib/\S+)", deps).group(1).split():
            pkg = {"libseccomp.a": "libseccomp-static", "libcap.a": "libcap-static"}[
                os.path.basename(lib)]
            self.assertIn(pkg, self.apk_packages(self.stages[0]))
        make = [ln for ln in self.stages[0] if ln.startswith("RUN make")]
        self.assertEqual(len(make), 1)
        self.assertIn("MUSL_CC=cc", make[0])
        self.assertIn("build/runner", make[0])
        self.assertIn("INTERP", make[0])   # refuses a dynamic runner

    def test_final_stage(self):
        final = self.stages[1]
        self.assertLessEqual({"bash", "git", "coreutils", "findutils", "grep", "diffutils",
                              "curl", "jq"}, self.apk_packages(final))
        run = " ".join(ln for ln in final if ln.startswith("RUN"))
        self.assertRegex(run, r"addgroup -g 1000 sandbox")
        self.assertRegex(run, r"adduser -D -u 1000 -G sandbox .*sandbox")
        self.assertIn("COPY --from=build /src/build/runner /sbin/runner", final)
        self.assertIn("WORKDIR /workspace", final)
        entry = [ln for ln in final if ln.startswith("ENTRYPOINT")]
        self.assertEqual(entry, ['ENTRYPOINT ["/sbin/runner"]'])
        self.assertEqual(json.loads(entry[0].split(None, 1)[1]), ["/sbin/runner"])

    def test_build_context_has_what_make_reads(self):
        # COPY . . with .dockerignore: the sources make needs must not be
        # ignored, and nothing built on the host may leak in.
        with open(os.path.join(e2e.ROOT, ".dockerignore")) as f:
            ignored = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
        self.assertIn("build", ignored)
        for needed in ("Makefile", "mk", "runner", "protocol", "tools", "tests"):
            self.assertNotIn(needed, ignored)
            self.assertTrue(os.path.exists(os.path.join(e2e.ROOT, needed)), needed)


class ImageOverlay(unittest.TestCase):
    def read(self, name):
        with open(os.path.join(e2e.ROOT, "image", "etc", name)) as f:
            return [ln.rstrip("\n").split(":") for ln in f if ln.strip()]

    def test_passwd(self):
        users = {u[0]: u for u in self.read("passwd")}
        self.assertEqual(users["root"][2:4], ["0", "0"])
        self.assertEqual(users["sandbox"][2:4], ["1000", "1000"])
        self.assertEqual(users["sandbox"][5], "/home/sandbox")
        for u in users.values():
            self.assertEqual(len(u), 7, u)

    def test_group(self):
        groups = {g[0]: g for g in self.read("group")}
        self.assertEqual(groups["root"][2], "0")
        self.assertEqual(groups["tty"][2], "5")   # devpts gid=5: PTYs work as 1000
        self.assertEqual(groups["sandbox"][2], "1000")
