"""The deployment manifests say only what the code does.

Every manifest under deploy/docker, deploy/compose, deploy/render, deploy/fly
and deploy/k8s is parsed (YAML with PyYAML, TOML with tomllib, Dockerfiles and
.dockerignore files by a small parser below) and checked against the code:

* environment variable names: the configuration table the binaries print
  (`codeinsight-gateway --config-table`, built from common/config.c), or a
  short allow-list of variables of other programs (ALLOWED_NON_APP_ENV);
* what runs: a binary of the Makefile (BINS) with flags it accepts (worker:
  `--pool fast|heavy`), through its image's ENTRYPOINT when a manifest gives
  only arguments, or a known system command (SYSTEM_COMMANDS);
* health paths: GET routes of gateway/routes.c; ports: PORT's default;
* KEDA: stream and consumer group of each pool, from common/job.h;
* images: COPY sources exist and are not excluded by the .dockerignore; the
  build stage installs deploy/local/deps.sh's build list; the runtime stage
  installs the packages of the libraries the binaries link (dpkg on this
  Debian 12 host) and the linters of worker/linters.c;
* secrets: required variables reach the processes that need them, secret
  variables only those, and no manifest holds anything like a real secret.

Run from the repo root:  /usr/bin/python3 -m pytest -q tests/deploy
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKER = DEPLOY / "docker"
COMPOSE = DEPLOY / "compose" / "docker-compose.yml"
COMPOSE_ENV_EXAMPLE = DEPLOY / "compose" / ".env.example"
RENDER = DEPLOY / "render" / "render.yaml"
FLY = DEPLOY / "fly" / "fly.toml"
K8S = DEPLOY / "k8s"
DOC = ROOT / "docs" / "deploy.md"
BUILD = Path(os.environ.get("CODEINSIGHT_BUILD_DIR", ROOT / "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD

DOCKERFILES = {
    "gateway": DOCKER / "Dockerfile.gateway",
    "worker": DOCKER / "Dockerfile.worker",
    "paas": DOCKER / "Dockerfile.paas",
}
# Image names the compose file and the Kubernetes manifests use -> Dockerfile.
IMAGE_DOCKERFILE = {
    "codeinsight-gateway": "gateway",
    "codeinsight-worker": "worker",
}

# Variables that are not Code Insight's, each set for another program.
ALLOWED_NON_APP_ENV = {
    # postgres image (compose): creates this role / database / password on
    # the first start of an empty data directory.
    "POSTGRES_USER": "postgres image",
    "POSTGRES_DB": "postgres image",
    "POSTGRES_PASSWORD": "postgres image; also interpolated into DATABASE_URL",
    # redis image (compose): redis-cli, the healthcheck, authenticates with it.
    "REDISCLI_AUTH": "redis-cli in the redis image",
    # compose .env only: Redis requirepass, interpolated into REDIS_URL.
    "REDIS_PASSWORD": "compose interpolation (.env)",
}

# Programs other than ours that manifests may run (healthchecks, hooks, the
# datastores' own images), and the init in front of the worker.
SYSTEM_COMMANDS = {
    "redis-server",   # redis image
    "redis-cli",      # redis healthcheck
    "pg_isready",     # postgres healthcheck
    "curl",           # gateway image HEALTHCHECK
    "sleep",          # gateway preStop: let endpoints drop the pod first
}
INIT_COMMANDS = {"tini", "/usr/bin/tini"}

# Debian package of each linter executable named in worker/linters.c.
# eslint is not a Debian package: it comes from deploy/eslint (npm).
LINTER_PACKAGES = {
    "pylint": "pylint",
    "flake8": "flake8",
    "shellcheck": "shellcheck",
    "cppcheck": "cppcheck",
    "eslint": None,
}

# What every platform must run.
EXPECTED_PROCESSES = {("codeinsight-gateway", None), ("codeinsight-worker", "fast"),
                      ("codeinsight-worker", "heavy"), ("codeinsight-migrate", None)}
# What the brief (and docs/operations.md) promise about the streams.
EXPECTED_STREAMS = {"fast": ("review_jobs", "fast"), "heavy": ("review_jobs:heavy", "heavy")}

# Has a default, but the default (127.0.0.1) is useless in a container:
# every deployment must set it for these processes.
DEPLOY_REQUIRED = {"REDIS_URL": {"gateway", "worker"}}

PLACEHOLDER_RE = re.compile(
    r"^(\$\{[^}]+\}|\$\(.*|\.\.\.|<[^>]+>|[A-Z][A-Z_]*|.*REPLACE_ME.*|.*CHANGE_ME.*)$")


# ------------------------------------------------------------ sources ------

def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8")


def _make_all() -> tuple[bool, str]:
    try:
        r = subprocess.run(["make", "--no-print-directory", "all"], cwd=ROOT,
                           capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return r.returncode == 0, (r.stdout + r.stderr)[-4000:]


def _config_c_names() -> list[str]:
    return re.findall(r'^\s*\{"([A-Z][A-Z0-9_]*)",\s*CFG_T_', _read(ROOT / "common" / "config.c"),
                      re.M)


@functools.lru_cache(maxsize=None)
def config_table() -> dict[str, dict]:
    """NAME -> {procs, required, default, secret}, from the gateway binary."""
    built, log = _make_all()
    binary = BUILD / "codeinsight-gateway"
    if not binary.exists():
        pytest.fail(f"{binary} missing and `make all` failed:\n{log}")
    out = subprocess.run([str(binary), "--config-table"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    table = {}
    for line in out.splitlines():
        m = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \| (.*) \|$", line)
        if not m:
            continue
        name, used_by, default, _bounds, desc = m.groups()
        table[name] = {
            "procs": {p.strip() for p in used_by.split(",") if p.strip()},
            "required": default.strip() == "(required)",
            "default": default.strip().strip("`"),
            # secret values, or URLs that carry a password
            "secret": "Secret:" in desc or "password is masked" in desc,
        }
    if not table:
        pytest.fail(f"no variables parsed from `{binary} --config-table`:\n{out[:2000]}")
    source = set(_config_c_names())
    if set(table) != source:
        pytest.fail("the configuration table of build/codeinsight-gateway differs from "
                    f"common/config.c (stale binary? `make all` {'ok' if built else 'failed'}):\n"
                    f"only in the binary: {sorted(set(table) - source)}\n"
                    f"only in config.c: {sorted(source - set(table))}\n{'' if built else log}")
    return table


@functools.lru_cache(maxsize=None)
def makefile_bins() -> set[str]:
    text = _read(ROOT / "Makefile").replace("\\\n", " ")
    # The service's programs; the CLI (a client) is built but not shipped.
    m = re.search(r"^SERVICE_BINS\s*:=(.*)$", text, re.M)
    assert m, "no SERVICE_BINS in the Makefile"
    bins = set(re.findall(r"\$\(BUILD\)/([\w.-]+)", m.group(1)))
    assert bins, "SERVICE_BINS lists no binary"
    return bins


@functools.lru_cache(maxsize=None)
def get_routes() -> set[str]:
    text = _read(ROOT / "gateway" / "routes.c")
    routes = {p for meth, p in re.findall(r'\{\s*"([A-Z]+)",\s*"([^"]+)"', text) if meth == "GET"}
    assert "/healthz" in routes and "/readyz" in routes, routes
    return routes


@functools.lru_cache(maxsize=None)
def worker_pools() -> set[str]:
    m = re.search(r"codeinsight-worker --pool ([a-z|]+)", _read(ROOT / "worker" / "main.c"))
    assert m, "usage line of worker/main.c not found"
    return set(m.group(1).split("|"))


@functools.lru_cache(maxsize=None)
def streams() -> dict[str, tuple[str, str]]:
    h = _read(ROOT / "common" / "job.h")
    d = dict(re.findall(r'#define\s+(JOB_(?:STREAM|GROUP)_[A-Z]+)\s+"([^"]+)"', h))
    return {pool: (d[f"JOB_STREAM_{pool.upper()}"], d[f"JOB_GROUP_{pool.upper()}"])
            for pool in worker_pools()}


@functools.lru_cache(maxsize=None)
def admin_commands() -> set[str]:
    return set(re.findall(r'strcmp\(cmd, "([a-z-]+)"\)', _read(ROOT / "gateway" / "admin_main.c")))


@functools.lru_cache(maxsize=None)
def deps_build_packages() -> list[str]:
    lines = _read(DEPLOY / "local" / "deps.sh").splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "# toolchain and libraries")
    pkgs = []
    for ln in lines[start + 1:]:
        if ln.strip().startswith("#") or ln.strip() == ")":
            break
        pkgs += ln.split()
    assert pkgs
    return pkgs


@functools.lru_cache(maxsize=None)
def linter_executables() -> set[str]:
    text = _read(ROOT / "worker" / "linters.c")
    exes = set(re.findall(r'_argv\[\]\s*=\s*\{\s*"([\w.-]+)"', text))
    assert exes, "no linter argv found in worker/linters.c"
    return exes


# --------------------------------------------------------- Dockerfiles -----

class Stage:
    def __init__(self, base: str, name: str | None):
        self.base, self.name = base, name
        self.env: dict[str, str] = {}
        self.copies: list[dict] = []
        self.runs: list[str] = []
        self.entrypoint: list[str] | None = None
        self.cmd: list[str] | None = None
        self.cmd_set = False
        self.healthcheck: str | None = None
        self.expose: list[str] = []
        self.user: str | None = None
        self.workdir: str | None = None
        self.parent: Stage | None = None

    def apt_packages(self) -> set[str]:
        pkgs = set()
        for run in self.runs:
            for part in re.split(r"&&|;", run):
                toks = part.split()
                if "apt-get" in toks and "install" in toks:
                    pkgs |= {t for t in toks[toks.index("install") + 1:] if not t.startswith("-")}
        return pkgs

    # Resolved image config (inherited through FROM <stage>).
    def chain(self) -> list["Stage"]:
        s, out = self, []
        while s is not None:
            out.append(s)
            s = s.parent
        return out[::-1]

    def image_env(self) -> dict[str, str]:
        env = {}
        for s in self.chain():
            env.update(s.env)
        return env

    def image_argv(self) -> tuple[list[str], list[str]]:
        entry, cmd = [], ["bash"]          # debian:12-slim: no ENTRYPOINT, CMD ["bash"]
        for s in self.chain():
            if s.entrypoint is not None:
                entry = s.entrypoint
                if not s.cmd_set:
                    cmd = []                # ENTRYPOINT resets an inherited CMD
            if s.cmd_set:
                cmd = s.cmd or []
        return entry, cmd

    def image_files(self) -> dict[str, dict]:
        """Destination path -> copy, for every COPY of the chain."""
        out = {}
        for s in self.chain():
            for c in s.copies:
                srcs, dest = c["srcs"], c["dest"]
                for src in srcs:
                    if src.endswith("/") and len(srcs) == 1:
                        key = dest                   # a directory's contents
                    elif dest.endswith("/"):
                        key = dest + Path(src.rstrip("/")).name
                    else:
                        key = dest
                    out[key.rstrip("/")] = dict(c, src=src)
        return out


def _exec_form(arg: str) -> list[str]:
    arg = arg.strip()
    if arg.startswith("["):
        return json.loads(arg)
    return ["/bin/sh", "-c", arg]


@functools.lru_cache(maxsize=None)
def dockerfile(kind: str) -> dict:
    path = DOCKERFILES[kind]
    text = _read(path)
    logical, cur = [], ""
    for line in text.splitlines():
        if not cur and (line.lstrip().startswith("#") or not line.strip()):
            continue
        if line.lstrip().startswith("#"):          # comment inside a continuation
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        logical.append(cur + line)
        cur = ""
    assert not cur, f"{path}: dangling continuation"
    stages: list[Stage] = []
    by_name: dict[str, Stage] = {}
    for inst in logical:
        op, _, arg = inst.strip().partition(" ")
        op = op.upper()
        arg = arg.strip()
        if op == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", arg, re.I)
            assert m, f"{path}: FROM {arg}"
            st = Stage(m.group(1), m.group(2))
            st.parent = by_name.get(m.group(1))
            stages.append(st)
            if st.name:
                by_name[st.name] = st
            continue
        assert stages, f"{path}: {op} before FROM"
        st = stages[-1]
        if op == "ENV":
            toks = shlex.split(arg)
            if toks and "=" not in toks[0]:         # legacy ENV KEY value
                st.env[toks[0]] = " ".join(toks[1:])
            else:
                for t in toks:
                    k, _, v = t.partition("=")
                    st.env[k] = v
        elif op == "COPY" or op == "ADD":
            toks = shlex.split(arg)
            flags = {}
            while toks and toks[0].startswith("--"):
                k, _, v = toks.pop(0)[2:].partition("=")
                flags[k] = v
            assert len(toks) >= 2, f"{path}: {inst}"
            st.copies.append({"op": op, "from": flags.get("from"), "srcs": toks[:-1],
                              "dest": toks[-1], "stage": st})
        elif op == "RUN":
            st.runs.append(arg)
        elif op == "ENTRYPOINT":
            st.entrypoint = _exec_form(arg)
        elif op == "CMD":
            st.cmd, st.cmd_set = _exec_form(arg), True
        elif op == "HEALTHCHECK":
            st.healthcheck = arg
        elif op == "EXPOSE":
            st.expose += arg.split()
        elif op == "USER":
            st.user = arg
        elif op == "WORKDIR":
            st.workdir = arg
    return {"path": path, "stages": stages, "by_name": by_name, "final": stages[-1]}


def _build_stage(df: dict) -> Stage:
    st = df["by_name"].get("build")
    assert st is not None, f"{df['path']}: no stage named build"
    return st


def _binaries_in(stage: Stage) -> set[str]:
    """Binaries of the Makefile that the image gets from the build stage."""
    bins = set()
    for c in (c for s in stage.chain() for c in s.copies):
        if c["from"] == "build":
            bins |= {Path(s).name for s in c["srcs"]}
    return bins


def _dockerignore(kind: str) -> list[tuple[bool, str]]:
    p = DOCKERFILES[kind].with_name(DOCKERFILES[kind].name + ".dockerignore")
    pats = []
    if p.exists():
        for line in _read(p).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                neg = line.startswith("!")
                pats.append((neg, line.lstrip("!").strip("/")))
    return pats


def _glob_re(pat: str) -> re.Pattern:
    out = ""
    i = 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**", i):
            out += ".*"
            i += 2
            continue
        out += "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
        i += 1
    return re.compile(out + "$")


def _ignored(pats: list[tuple[bool, str]], rel: str) -> bool:
    """moby semantics: the last pattern matching the path or a parent wins."""
    parts = rel.strip("/").split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for neg, pat in pats:
        rx = _glob_re(pat)
        if any(rx.match(p) for p in prefixes):
            excluded = not neg
    return excluded


# --------------------------------------------------------- manifests -------

@functools.lru_cache(maxsize=None)
def compose() -> dict:
    return yaml.safe_load(_read(COMPOSE))


@functools.lru_cache(maxsize=None)
def render() -> dict:
    return yaml.safe_load(_read(RENDER))


@functools.lru_cache(maxsize=None)
def fly() -> dict:
    with open(FLY, "rb") as f:
        return tomllib.load(f)


@functools.lru_cache(maxsize=None)
def k8s_docs() -> list[tuple[Path, dict]]:
    out = []
    for p in sorted(K8S.glob("*.yaml")):
        for d in yaml.safe_load_all(_read(p)):
            if d:
                out.append((p, d))
    assert out, "no Kubernetes manifests"
    return out


def k8s_kind(kind: str) -> list[tuple[Path, dict]]:
    return [(p, d) for p, d in k8s_docs() if d.get("kind") == kind]


def _pod_spec(d: dict) -> dict:
    return d["spec"]["template"]["spec"]


def _env_list_to_dict(env) -> dict:
    if env is None:
        return {}
    if isinstance(env, dict):
        return {k: ("" if v is None else str(v)) for k, v in env.items()}
    out = {}
    for item in env:
        k, _, v = str(item).partition("=")
        out[k] = v
    return out


def _dotenv(p: Path) -> dict[str, str]:
    out = {}
    for line in _read(p).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


# ------------------------------------------------ process invocations ------

def check_argv(argv: list[str], where: str) -> tuple[str, str | None]:
    """Validates what a container runs; returns (binary, pool)."""
    assert argv, f"{where}: runs nothing"
    if argv[0] in INIT_COMMANDS:
        assert argv[1:2] == ["--"], f"{where}: {argv}: tini without --"
        argv = argv[2:]
    binary = Path(argv[0]).name
    args = argv[1:]
    assert binary in makefile_bins(), \
        f"{where}: runs {argv[0]!r}, not a binary of the Makefile {sorted(makefile_bins())}"
    if binary == "codeinsight-worker":
        pool = None
        if len(args) == 2 and args[0] == "--pool":
            pool = args[1]
        elif len(args) == 1 and args[0].startswith("--pool="):
            pool = args[0].split("=", 1)[1]
        assert pool in worker_pools(), f"{where}: {argv}: want --pool {'|'.join(worker_pools())}"
        return binary, pool
    if binary == "codeinsight-gateway":
        assert args in ([], ["--config-table"]), f"{where}: {argv}: the gateway takes no flags"
    elif binary == "codeinsight-migrate":
        assert args == [], f"{where}: {argv}: codeinsight-migrate takes no arguments"
    elif binary == "codeinsight-admin":
        assert args and args[0] in admin_commands(), f"{where}: {argv}: unknown admin command"
    return binary, None


def check_system_command(argv: list[str], where: str) -> None:
    assert argv, f"{where}: empty command"
    if argv[0] in ("CMD", "CMD-SHELL"):
        if argv[0] == "CMD-SHELL":
            argv = shlex.split(argv[1])
        else:
            argv = argv[1:]
    assert Path(argv[0]).name in SYSTEM_COMMANDS, \
        f"{where}: runs {argv[0]!r}, neither ours nor in SYSTEM_COMMANDS"


def compose_services() -> dict[str, dict]:
    """service -> {env, argv, kind/pool or None, raw}."""
    out = {}
    for name, svc in compose()["services"].items():
        env = _env_list_to_dict(svc.get("environment"))
        build = svc.get("build")
        if build:
            df_name = Path(build["dockerfile"]).name
            kind = next(k for k, p in DOCKERFILES.items() if p.name == df_name)
            assert (ROOT / "deploy" / "compose" / build["context"]).resolve() == ROOT, \
                f"compose {name}: the build context must be the repository root"
            img_entry, img_cmd = dockerfile(kind)["final"].image_argv()
            entry = svc.get("entrypoint")
            if isinstance(entry, str):
                entry = shlex.split(entry)
            cmd = svc.get("command")
            if isinstance(cmd, str):
                cmd = shlex.split(cmd)
            if entry is not None:
                argv = list(entry) + list(cmd or [])
            else:
                argv = list(img_entry) + list(cmd if cmd is not None else img_cmd)
            binary, pool = check_argv(argv, f"compose service {name}")
            out[name] = {"env": env, "argv": argv, "binary": binary, "pool": pool, "raw": svc,
                         "image_kind": kind}
        else:
            cmd = svc.get("command")
            if cmd:
                check_system_command(cmd if isinstance(cmd, list) else shlex.split(cmd),
                                     f"compose service {name}")
            out[name] = {"env": env, "argv": cmd, "binary": None, "pool": None, "raw": svc,
                         "image_kind": None}
        hc = svc.get("healthcheck")
        if hc and "test" in hc:
            check_system_command(hc["test"], f"compose service {name} healthcheck")
    return out


def render_services() -> dict[str, dict]:
    paas = dockerfile("paas")["final"]
    entry, _ = paas.image_argv()
    out = {}
    for svc in render()["services"]:
        if svc["type"] not in ("web", "worker", "pserv", "cron"):
            continue
        assert svc.get("runtime") == "docker", f"render {svc['name']}: runtime must be docker"
        assert svc["dockerfilePath"].lstrip("./") == str(DOCKERFILES["paas"].relative_to(ROOT)), \
            f"render {svc['name']}: builds {svc['dockerfilePath']}, want Dockerfile.paas"
        assert svc.get("dockerContext", ".") in (".", "./"), "render: context must be the repo root"
        assert "startCommand" not in svc, f"render {svc['name']}: use dockerCommand"
        argv = entry + shlex.split(svc["dockerCommand"])
        binary, pool = check_argv(argv, f"render {svc['name']} dockerCommand")
        pre = None
        if "preDeployCommand" in svc:
            pre = check_argv(entry + shlex.split(svc["preDeployCommand"]),
                             f"render {svc['name']} preDeployCommand")
        env = {}
        for e in svc.get("envVars", []):
            if "key" in e:
                env[e["key"]] = e
        out[svc["name"]] = {"binary": binary, "pool": pool, "pre": pre, "env": env, "raw": svc}
    return out


def fly_processes() -> dict[str, tuple[str, str | None]]:
    entry, _ = dockerfile("paas")["final"].image_argv()
    procs = fly()["processes"]
    return {g: check_argv(entry + shlex.split(c), f"fly process {g}") for g, c in procs.items()}


def k8s_containers() -> list[dict]:
    out = []
    for p, d in k8s_docs():
        if d["kind"] not in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            continue
        spec = _pod_spec(d)
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            where = f"{p.name} {d['kind']}/{d['metadata']['name']} container {c['name']}"
            image = c["image"].split(":")[0].split("/")[-1]
            kind = IMAGE_DOCKERFILE.get(image)
            env_names, env_items = [], c.get("env", [])
            for e in env_items:
                env_names.append(e["name"])
            rec = {"where": where, "doc": d, "file": p, "container": c, "spec": spec,
                   "env": {e["name"]: e for e in env_items}, "binary": None, "pool": None,
                   "image_kind": kind}
            assert not [n for n, k in Counter(env_names).items() if k > 1], f"{where}: duplicate env"
            if kind is not None:
                img_entry, img_cmd = dockerfile(kind)["final"].image_argv()
                if "command" in c:
                    argv = list(c["command"]) + list(c.get("args", []))
                else:
                    argv = list(img_entry) + list(c["args"] if "args" in c else img_cmd)
                rec["binary"], rec["pool"] = check_argv(argv, where)
                rec["argv"] = argv
                assert rec["binary"] in _binaries_in(dockerfile(kind)["final"]), \
                    f"{where}: {rec['binary']} is not in the {kind} image"
            else:
                pytest.fail(f"{where}: unknown image {c['image']!r}")
            for hook in ("preStop", "postStart"):
                h = c.get("lifecycle", {}).get(hook, {})
                if "exec" in h:
                    check_system_command(h["exec"]["command"], f"{where} {hook}")
            out.append(rec)
    return out


def configmap_data() -> dict[str, str]:
    data = {}
    for _p, d in k8s_kind("ConfigMap"):
        data.update({k: str(v) for k, v in (d.get("data") or {}).items()})
    return data


def k8s_effective_env(rec: dict) -> dict[str, object]:
    """Everything a container gets: envFrom ConfigMaps, then env."""
    env: dict[str, object] = {}
    cms = {d["metadata"]["name"]: d for _p, d in k8s_kind("ConfigMap")}
    for ef in rec["container"].get("envFrom", []):
        if "configMapRef" in ef:
            name = ef["configMapRef"]["name"]
            assert name in cms, f"{rec['where']}: envFrom unknown ConfigMap {name}"
            env.update(cms[name].get("data") or {})
        else:
            pytest.fail(f"{rec['where']}: envFrom {ef}: give secrets one by one (secretKeyRef), "
                        "so each process gets only the ones it uses")
    env.update(rec["env"])
    return env


def proc_of(binary: str | None) -> str | None:
    return {"codeinsight-gateway": "gateway", "codeinsight-worker": "worker",
            "codeinsight-migrate": "migrate", "codeinsight-admin": "admin"}.get(binary or "")


# ================================================================ tests ====

def test_config_table_is_the_code():
    table = config_table()
    for name in ("PORT", "DATABASE_URL", "REDIS_URL", "CODEINSIGHT_KEY_PEPPER",
                 "CODEINSIGHT_JWT_SECRET", "CODEINSIGHT_PROMPTS_DIR", "CODEINSIGHT_SCHEMA_DIR"):
        assert name in table, f"{name} not in the configuration table"
    assert table["DATABASE_URL"]["required"] and table["CODEINSIGHT_KEY_PEPPER"]["secret"]


def _all_env_names() -> list[tuple[str, str]]:
    """(where, NAME) for every variable a manifest sets."""
    names = []
    for kind in DOCKERFILES:
        for st in dockerfile(kind)["stages"]:
            names += [(f"{DOCKERFILES[kind].name} ENV", n) for n in st.env]
    for svc_name, svc in compose()["services"].items():
        names += [(f"compose {svc_name}", n) for n in _env_list_to_dict(svc.get("environment"))]
    names += [(".env.example", n) for n in _dotenv(COMPOSE_ENV_EXAMPLE)]
    for svc in render()["services"]:
        names += [(f"render {svc['name']}", e["key"]) for e in svc.get("envVars", []) if "key" in e]
    for grp in render().get("envVarGroups", []) or []:
        names += [(f"render group {grp['name']}", e["key"]) for e in grp.get("envVars", [])]
    names += [("fly [env]", n) for n in fly().get("env", {})]
    for p, d in k8s_kind("ConfigMap"):
        names += [(f"{p.name} ConfigMap", n) for n in (d.get("data") or {})]
    for rec in k8s_containers():
        names += [(rec["where"], n) for n in rec["env"]]
    return names


def test_env_names_are_in_the_configuration_table():
    table = config_table()
    unknown = sorted({(w, n) for w, n in _all_env_names()
                      if n not in table and n not in ALLOWED_NON_APP_ENV})
    assert not unknown, ("variables that are neither in the configuration table "
                         "(common/config.c) nor in ALLOWED_NON_APP_ENV:\n"
                         + "\n".join(f"  {w}: {n}" for w, n in unknown))
    # The allow-list stays short and honest: every entry is actually used.
    used = {n for _w, n in _all_env_names()}
    assert set(ALLOWED_NON_APP_ENV) <= used, set(ALLOWED_NON_APP_ENV) - used


def test_k8s_secret_keys_are_variables_or_keda_parameters():
    table = config_table()
    keda_keys = {ref["key"] for _p, d in k8s_kind("TriggerAuthentication")
                 for ref in d["spec"].get("secretTargetRef", [])}
    for p, d in k8s_kind("Secret"):
        for key in {**(d.get("stringData") or {}), **(d.get("data") or {})}:
            assert key in table or key in keda_keys, \
                f"{p.name}: Secret key {key} is neither a variable nor used by KEDA"
    # Every secretKeyRef names a key the example Secret documents.
    secret_keys = {k for _p, d in k8s_kind("Secret")
                   for k in {**(d.get("stringData") or {}), **(d.get("data") or {})}}
    secret_names = {d["metadata"]["name"] for _p, d in k8s_kind("Secret")}
    for rec in k8s_containers():
        for name, e in rec["env"].items():
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] in secret_names and ref["key"] in secret_keys, \
                    f"{rec['where']}: {name} from unknown secret key {ref}"
    assert keda_keys <= secret_keys


def test_dockerfiles_run_real_binaries():
    for kind in DOCKERFILES:
        df = dockerfile(kind)
        final = df["final"]
        entry, cmd = final.image_argv()
        binary, pool = check_argv(entry + cmd, f"{df['path'].name} ENTRYPOINT+CMD")
        assert binary in _binaries_in(final), f"{df['path'].name}: {binary} not copied in"
        for b in _binaries_in(final):
            assert b in makefile_bins(), f"{df['path'].name}: copies {b}, not built by the Makefile"
        for c in final.copies:
            if c["from"] == "build":
                for src in c["srcs"]:
                    assert src.startswith("/src/build/"), f"{df['path'].name}: {src}"
        if kind == "worker":
            assert pool == "fast", "the worker image defaults to --pool fast"
    # Exactly the brief's entrypoints: the gateway binary; tini + the worker.
    assert dockerfile("gateway")["final"].image_argv()[0] == ["codeinsight-gateway"]
    assert dockerfile("worker")["final"].image_argv()[0][-1] == "codeinsight-worker"
    # The PaaS image has no program in ENTRYPOINT: platforms replace the CMD.
    entry, cmd = dockerfile("paas")["final"].image_argv()
    assert all(e in INIT_COMMANDS or e == "--" for e in entry), entry
    assert _binaries_in(dockerfile("paas")["final"]) == makefile_bins()
    # The gateway image carries the migrations.
    assert "codeinsight-migrate" in _binaries_in(dockerfile("gateway")["final"])


def test_dockerfile_healthcheck_and_runtime_settings():
    table = config_table()
    port = table["PORT"]["default"]
    for kind in DOCKERFILES:
        df = dockerfile(kind)
        final = df["final"]
        name = df["path"].name
        assert final.base == "debian:12-slim" and _build_stage(df).base == "debian:12-slim", name
        assert final.user in ("10001", "10001:10001"), f"{name}: USER {final.user}, want 10001"
        assert final.workdir == "/app", f"{name}: WORKDIR {final.workdir}"
        assert any("useradd" in r and "--uid 10001" in r for r in final.runs), name
        env = final.image_env()
        files = final.image_files()
        if kind in ("gateway", "paas"):
            assert env.get("CODEINSIGHT_BIND") == "0.0.0.0", name
            assert final.expose == [env.get("PORT", port)], f"{name}: EXPOSE {final.expose}"
            schema = env.get("CODEINSIGHT_SCHEMA_DIR", "schema/migrations")
            schema = schema if schema.startswith("/") else f"{final.workdir}/{schema}"
            assert files.get(schema, {}).get("src", "").rstrip("/") == "schema/migrations" or \
                (files.get(str(Path(schema).parent), {}).get("src", "").rstrip("/") == "schema"), \
                f"{name}: CODEINSIGHT_SCHEMA_DIR={schema} does not hold schema/migrations"
        if kind in ("worker", "paas"):
            prompts = env.get("CODEINSIGHT_PROMPTS_DIR", "prompts")
            prompts = prompts if prompts.startswith("/") else f"{final.workdir}/{prompts}"
            assert files.get(prompts, {}).get("src", "").rstrip("/") == "prompts", \
                f"{name}: CODEINSIGHT_PROMPTS_DIR={prompts} does not hold prompts/"
            assert files.get("/app/schema", {}).get("src", "").rstrip("/") == "schema", name
    hc = dockerfile("gateway")["final"].healthcheck
    assert hc and " CMD " in f" {hc} ", "the gateway image needs a HEALTHCHECK"
    cmd = hc.split(" CMD ", 1)[1] if " CMD " in hc else hc.split("CMD ", 1)[1]
    check_system_command(shlex.split(cmd), "Dockerfile.gateway HEALTHCHECK")
    paths = re.findall(r"https?://[^/\s\"']+(/[^\s\"']*)", hc)
    assert paths and all(p in get_routes() for p in paths), f"HEALTHCHECK paths {paths}"
    assert "curl" in dockerfile("gateway")["final"].apt_packages()
    # The worker image asks its own /livez with the worker binary (no curl),
    # on the metrics listener its environment turns on.
    final = dockerfile("worker")["final"]
    hc = final.healthcheck
    assert hc and " CMD " in f" {hc} ", "the worker image needs a HEALTHCHECK"
    argv = _exec_form(hc.split(" CMD ", 1)[1] if " CMD " in hc else hc.split("CMD ", 1)[1])
    assert argv == ["codeinsight-worker", "--check-live"], argv
    assert "codeinsight-worker" in _binaries_in(final)
    port = final.image_env().get("CODEINSIGHT_METRICS_PORT", table["CODEINSIGHT_METRICS_PORT"]
                                 ["default"])
    assert 0 < int(port) < 65536, f"Dockerfile.worker: CODEINSIGHT_METRICS_PORT={port}: no /livez"
    assert "--check-live" in (ROOT / "worker" / "main.c").read_text()


def test_dockerfile_copy_sources_exist_and_are_not_ignored():
    for kind in DOCKERFILES:
        df = dockerfile(kind)
        name = df["path"].name
        pats = _dockerignore(kind)
        assert pats, f"{name}.dockerignore missing: the context would include .run/ and build/"
        for st in df["stages"]:
            for c in st.copies:
                if c["from"]:
                    assert c["from"] in df["by_name"], f"{name}: COPY --from={c['from']}: no stage"
                    continue
                for src in c["srcs"]:
                    matches = list(ROOT.glob(src.rstrip("/"))) if any(ch in src for ch in "*?[") \
                        else [ROOT / src.rstrip("/")]
                    assert matches and all(m.exists() for m in matches), \
                        f"{name}: COPY {src}: not in the repository"
                    for m in matches:
                        files = [m] if m.is_file() else [f for f in m.rglob("*") if f.is_file()]
                        rel = [str(f.relative_to(ROOT)) for f in files]
                        assert any(not _ignored(pats, r) for r in rel), \
                            f"{name}: COPY {src}: excluded by {name}.dockerignore"
        # Never sent to a builder: local state and secrets, host objects.
        for private in (".run/secrets/x", "build/codeinsight-gateway", ".git/config",
                        "deploy/compose/.env", "deploy/eslint/node_modules/x/index.js"):
            assert _ignored(pats, private), f"{name}.dockerignore lets {private} through"


def test_build_stage_installs_the_deps_sh_build_list():
    want = set(deps_build_packages())
    for kind in DOCKERFILES:
        df = dockerfile(kind)
        build = _build_stage(df)
        assert build.apt_packages() == want, (
            f"{df['path'].name}: build stage packages differ from deploy/local/deps.sh:\n"
            f"missing: {sorted(want - build.apt_packages())}\n"
            f"extra: {sorted(build.apt_packages() - want)}")
        assert any(re.search(r"\bmake\b.*\ball\b", r) for r in build.runs), \
            f"{df['path'].name}: the build stage must run `make all`"
        final = df["final"]
        assert not (final.apt_packages() & {p for p in want if p.endswith("-dev")}), \
            f"{df['path'].name}: -dev packages in the runtime image"


def _needed_packages(binary: Path) -> set[str]:
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True,
                         check=True).stdout
    needed = re.findall(r"\(NEEDED\).*\[(.+?)\]", out)
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    where = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    pkgs = set()
    for lib in needed:
        path = where.get(lib)
        assert path and path != "not", f"{binary.name}: {lib} not found by ldd"
        real = os.path.realpath(path)
        candidates = {real, path, real.replace("/usr/lib/", "/lib/", 1),
                      real.replace("/lib/", "/usr/lib/", 1)}
        for cand in candidates:
            r = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True)
            if r.returncode == 0:
                pkgs.add(r.stdout.split(":", 1)[0].strip())
                break
        else:
            pytest.fail(f"{binary.name}: no Debian package owns {lib} ({real})")
    return pkgs - {"libc6"}


def test_runtime_stage_installs_the_libraries_the_binaries_link():
    if not all(shutil.which(t) for t in ("readelf", "ldd", "dpkg")):
        pytest.skip("readelf, ldd or dpkg missing")
    config_table()                                  # builds the binaries
    for kind in DOCKERFILES:
        final = dockerfile(kind)["final"]
        have = final.apt_packages()
        for b in sorted(_binaries_in(final)):
            missing = _needed_packages(BUILD / b) - have
            assert not missing, (f"{DOCKERFILES[kind].name}: {b} links libraries of "
                                 f"{sorted(missing)}, not installed in the runtime stage")


def test_worker_images_carry_every_linter():
    for kind in ("worker", "paas"):
        df = dockerfile(kind)
        final = df["final"]
        have = final.apt_packages()
        exes = set(linter_executables())
        if (ROOT / "deploy" / "eslint" / "package.json").exists():
            exes.add("eslint")                       # being added: install it already
        for exe in sorted(exes):
            assert exe in LINTER_PACKAGES, (f"worker/linters.c runs {exe}: add it to the "
                                            "worker images and to LINTER_PACKAGES")
            pkg = LINTER_PACKAGES[exe]
            if pkg:
                assert pkg in have, f"{df['path'].name}: linter package {pkg} not installed"
            else:
                eslint = df["by_name"].get("eslint")
                assert eslint is not None, f"{df['path'].name}: no eslint stage"
                assert any(c["srcs"] == ["deploy/eslint/"] for c in eslint.copies), \
                    f"{df['path'].name}: eslint stage must install deploy/eslint"
                assert any(c["from"] == "eslint" for c in final.copies), df["path"].name
                assert any(re.search(r"\bnpm ci\b", r) for r in eslint.runs), \
                    f"{df['path'].name}: install eslint with npm ci (the lock file pins it)"
                assert "nodejs" in have, f"{df['path'].name}: eslint needs nodejs"
                # The worker looks for node_modules/.bin/eslint and
                # eslint.config.mjs in CODEINSIGHT_ESLINT_DIR.
                env = final.image_env()
                default = config_table().get("CODEINSIGHT_ESLINT_DIR", {}).get("default",
                                                                               "deploy/eslint")
                d = env.get("CODEINSIGHT_ESLINT_DIR", default)
                d = d if d.startswith("/") else f"{final.workdir}/{d}"
                c = final.image_files().get(d.rstrip("/"))
                assert c and c["from"] == "eslint" and c["src"].rstrip("/") == eslint.workdir, \
                    f"{df['path'].name}: CODEINSIGHT_ESLINT_DIR={d} does not hold deploy/eslint"
        assert "tini" in have, f"{df['path'].name}: tini (PID 1) not installed"
        assert "ca-certificates" in have, f"{df['path'].name}: ca-certificates (HTTPS)"


def _processes(found: set[tuple[str, str | None]], where: str) -> None:
    missing = EXPECTED_PROCESSES - found
    assert not missing, f"{where} does not run {sorted(missing, key=str)}"


def test_compose():
    svcs = compose_services()
    found = {(s["binary"], s["pool"]) for s in svcs.values() if s["binary"]}
    _processes(found, "docker-compose.yml")
    raw = compose()["services"]
    redis = raw["redis"]
    assert redis["image"].split(":")[1].startswith("7"), "redis:7"
    cmd = redis["command"]
    text = " ".join(cmd if isinstance(cmd, list) else [cmd])
    assert re.search(r"--appendonly\s+yes", text) and re.search(r"--appendfsync\s+everysec", text)
    assert any(str(v).split(":")[1] == "/data" for v in redis["volumes"]), "redis volume on /data"
    pg = raw["postgres"]
    assert pg["image"] == "postgres:15"
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in pg["volumes"])
    assert "healthcheck" in pg and "healthcheck" in redis
    for name, s in svcs.items():
        if s["binary"] in ("codeinsight-gateway", "codeinsight-worker"):
            deps = s["raw"]["depends_on"]
            migrate = next(n for n, t in svcs.items() if t["binary"] == "codeinsight-migrate")
            assert deps[migrate]["condition"] == "service_completed_successfully", name
            assert deps["redis"]["condition"] == "service_healthy", name
            assert deps["postgres"]["condition"] == "service_healthy", name
            assert s["raw"].get("stop_grace_period") == "30s", f"compose {name}: 30 s grace"
        if s["binary"] == "codeinsight-gateway":
            assert any(str(p).endswith(":8080") for p in s["raw"]["ports"])
        if s["binary"] == "codeinsight-migrate":
            assert s["raw"].get("restart") == "no", "migrate is one-shot"
            assert raw[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_secrets_come_from_dotenv():
    text = "\n".join(ln for ln in _read(COMPOSE).splitlines()
                     if not ln.lstrip().startswith("#"))
    declared = _dotenv(COMPOSE_ENV_EXAMPLE)
    assert all(v == "" for v in declared.values()), ".env.example must hold no values"
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert used <= set(declared), f"not documented in .env.example: {sorted(used - set(declared))}"
    table = config_table()
    secrets = {n for n, v in table.items() if v["secret"]} | {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
    required = {n for n, v in table.items() if v["required"]} | {"POSTGRES_PASSWORD",
                                                                 "REDIS_PASSWORD"}
    for var in used & required:
        assert re.search(r"\$\{" + var + r":\?", text), f"compose: ${{{var}}} must use :? (required)"
        assert not re.search(r"\$\{" + var + r"(:?-|\})", text), \
            f"compose: every use of ${{{var}}} must fail when unset"
    assert (used & secrets), "compose takes no secret from .env?"
    if shutil.which("git") and (ROOT / ".git").exists():
        r = subprocess.run(["git", "check-ignore", "-q", "deploy/compose/.env"], cwd=ROOT)
        assert r.returncode == 0, "deploy/compose/.env must be git-ignored"


def test_render():
    svcs = render_services()
    found = {(s["binary"], s["pool"]) for s in svcs.values()}
    found |= {s["pre"] for s in svcs.values() if s["pre"]}
    _processes(found, "render.yaml")
    web = [s for s in svcs.values() if s["raw"]["type"] == "web"]
    assert len(web) == 1 and web[0]["binary"] == "codeinsight-gateway"
    assert web[0]["pre"] == ("codeinsight-migrate", None), "migrations as preDeployCommand"
    assert web[0]["raw"]["healthCheckPath"] == "/healthz"
    assert web[0]["raw"]["healthCheckPath"] in get_routes()
    workers = {s["pool"] for s in svcs.values() if s["raw"]["type"] == "worker"}
    assert workers == worker_pools()
    for name, s in svcs.items():
        assert s["raw"].get("maxShutdownDelaySeconds") == 30, f"render {name}: 30 s grace"
    kv = [s for s in render()["services"] if s["type"] in ("keyvalue", "redis")]
    assert len(kv) == 1 and kv[0]["maxmemoryPolicy"] == "noeviction", \
        "Render Key Value: the queue must never be evicted"
    assert "ipAllowList" in kv[0]
    dbs = render()["databases"]
    assert len(dbs) == 1
    db_names = {d["name"] for d in dbs}
    kv_names = {k["name"] for k in kv}
    for name, s in svcs.items():
        for key, e in s["env"].items():
            if "fromDatabase" in e:
                assert e["fromDatabase"]["name"] in db_names
                assert e["fromDatabase"]["property"] == "connectionString"
            if "fromService" in e:
                assert e["fromService"]["name"] in kv_names
                assert e["fromService"]["type"] in ("keyvalue", "redis")


def test_fly():
    cfg = fly()
    procs = fly_processes()
    _processes(set(procs.values()) | {check_argv(
        dockerfile("paas")["final"].image_argv()[0] + shlex.split(cfg["deploy"]["release_command"]),
        "fly release_command")}, "fly.toml")
    assert check_argv(shlex.split(cfg["deploy"]["release_command"]), "fly release_command") == \
        ("codeinsight-migrate", None)
    # Top level, not inside a table.
    assert cfg.get("kill_signal") == "SIGTERM"
    assert cfg.get("kill_timeout") in (30, "30s"), "kill_timeout 30 s, at the top level"
    assert (FLY.parent / cfg["build"]["dockerfile"]).resolve() == DOCKERFILES["paas"]
    assert (FLY.parent / cfg["build"]["ignorefile"]).resolve().exists()
    services = []
    if "http_service" in cfg:
        services.append(cfg["http_service"])
    services += cfg.get("services", [])
    assert services, "fly.toml exposes no service"
    gateway_groups = {g for g, (b, _p) in procs.items() if b == "codeinsight-gateway"}
    port = int(cfg.get("env", {}).get("PORT", config_table()["PORT"]["default"]))
    paths = []
    for s in services:
        assert set(s["processes"]) == gateway_groups, "only the gateway takes HTTP"
        assert s["internal_port"] == port
        for chk in s.get("checks", []) + s.get("http_checks", []):
            paths.append(chk["path"])
    assert "/healthz" in paths and set(paths) <= get_routes(), paths
    # Workers: liveness from their own listener, on the port they are given.
    worker_groups = {g for g, (b, _p) in procs.items() if b == "codeinsight-worker"}
    live = [c for c in cfg.get("checks", {}).values() if c.get("path") == "/livez"]
    assert live and set(live[0]["processes"]) == worker_groups, cfg.get("checks")
    assert live[0]["port"] == int(cfg["env"]["CODEINSIGHT_METRICS_PORT"])
    assert cfg["env"].get("CODEINSIGHT_METRICS_BIND") == "0.0.0.0"
    secrets_doc = _read(FLY)
    for name, v in config_table().items():
        if v["secret"]:
            assert name not in cfg.get("env", {}), f"fly [env] holds the secret {name}"
        if v["required"] and v["procs"] & {"gateway", "worker", "migrate"}:
            assert name in secrets_doc, f"fly.toml: tell how to set {name} (fly secrets set)"


def _k8s_by_binary() -> dict[tuple[str, str | None], dict]:
    return {(r["binary"], r["pool"]): r for r in k8s_containers()}


def test_k8s_workloads():
    recs = _k8s_by_binary()
    _processes(set(recs), "deploy/k8s")
    gw = recs[("codeinsight-gateway", None)]
    c = gw["container"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    env_port = k8s_effective_env(gw).get("PORT")
    port = int(env_port if isinstance(env_port, str) else config_table()["PORT"]["default"])
    for probe in ("readinessProbe", "livenessProbe"):
        pp = c[probe]["httpGet"]["port"]
        assert (ports.get(pp) if isinstance(pp, str) else pp) == port, f"{probe} port"
    assert "requests" in c["resources"] and "limits" in c["resources"]
    svc = [d for _p, d in k8s_kind("Service") if d["metadata"]["name"] == gw["doc"]["metadata"]["name"]]
    assert svc, "no Service for the gateway"
    assert svc[0]["spec"]["selector"].items() <= gw["doc"]["spec"]["template"]["metadata"]["labels"].items()
    for rec in k8s_containers():
        if rec["doc"]["kind"] == "Deployment":
            assert rec["spec"].get("terminationGracePeriodSeconds") == 30, \
                f"{rec['where']}: terminationGracePeriodSeconds 30"
            labels = rec["doc"]["spec"]["template"]["metadata"]["labels"]
            assert rec["doc"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
        sc = rec["spec"].get("securityContext", {})
        assert sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001, rec["where"]
        csc = rec["container"].get("securityContext", {})
        assert csc.get("allowPrivilegeEscalation") is False, rec["where"]
        if csc.get("readOnlyRootFilesystem") and rec["binary"] == "codeinsight-worker":
            assert any(m["mountPath"] == "/tmp" for m in rec["container"].get("volumeMounts", [])), \
                f"{rec['where']}: the linters need a writable /tmp"
    # Worker drain fits in the grace period: read block + shutdown grace < 30 s.
    table = config_table()
    for pool in worker_pools():
        env = k8s_effective_env(recs[("codeinsight-worker", pool)])
        grace = int(env.get("CODEINSIGHT_SHUTDOWN_GRACE", table["CODEINSIGHT_SHUTDOWN_GRACE"]["default"]))
        block = int(env.get("CODEINSIGHT_READ_BLOCK_MS", table["CODEINSIGHT_READ_BLOCK_MS"]["default"]))
        assert grace + block / 1000 < 30, f"worker-{pool}: drains longer than the 30 s grace"
        assert "replicas" not in recs[("codeinsight-worker", pool)]["doc"]["spec"], \
            f"worker-{pool}: replicas belong to KEDA"
        # Liveness from the worker's own listener, which must then be on.
        wc = recs[("codeinsight-worker", pool)]["container"]
        probe = wc["livenessProbe"]["httpGet"]
        ports = {p["name"]: p["containerPort"] for p in wc["ports"]}
        assert probe["path"] == "/livez", f"worker-{pool}: liveness is /livez"
        pp = probe["port"]
        metrics_port, metrics_bind = (env.get(n, {}) for n in ("CODEINSIGHT_METRICS_PORT",
                                                               "CODEINSIGHT_METRICS_BIND"))
        assert (ports.get(pp) if isinstance(pp, str) else pp) == int(metrics_port.get("value")), \
            f"worker-{pool}: the probe's port is CODEINSIGHT_METRICS_PORT"
        assert metrics_bind.get("value") == "0.0.0.0", f"worker-{pool}: kubelet must reach it"
    job = recs[("codeinsight-migrate", None)]
    assert job["doc"]["kind"] == "Job"
    assert job["spec"]["restartPolicy"] in ("Never", "OnFailure")


def test_k8s_kustomization_lists_everything_but_the_secret():
    kust = yaml.safe_load(_read(K8S / "kustomization.yaml"))
    listed = set(kust["resources"])
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == files - {"secret.example.yaml"}, (listed, files)
    names = {i["name"] for i in kust.get("images", [])}
    assert names == set(IMAGE_DOCKERFILE), names
    if shutil.which("kubectl"):
        r = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True,
                           timeout=60)
        if r.returncode == 0:
            assert "REPLACE_WITH_RELEASE_TAG" in r.stdout   # images rewritten
        else:
            pytest.fail(f"kubectl kustomize deploy/k8s failed:\n{r.stderr}")


def test_keda_scales_each_pool_on_its_stream():
    assert streams() == EXPECTED_STREAMS, f"common/job.h: {streams()}"
    deployments = {r["doc"]["metadata"]["name"]: r for r in k8s_containers()
                   if r["doc"]["kind"] == "Deployment"}
    auths = {d["metadata"]["name"]: d for _p, d in k8s_kind("TriggerAuthentication")}
    scaled = k8s_kind("ScaledObject")
    pools_scaled = set()
    for p, so in scaled:
        name = so["metadata"]["name"]
        target = so["spec"]["scaleTargetRef"]["name"]
        assert target in deployments, f"{name}: scales unknown Deployment {target}"
        rec = deployments[target]
        assert rec["binary"] == "codeinsight-worker", f"{name}: scales a non-worker"
        pool = rec["pool"]
        pools_scaled.add(pool)
        stream, group = streams()[pool]
        lo, hi = so["spec"].get("minReplicaCount"), so["spec"].get("maxReplicaCount")
        assert isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi and hi >= 1, name
        lag_triggers = 0
        for t in so["spec"]["triggers"]:
            assert t["type"] == "redis-streams", f"{name}: trigger {t['type']}"
            md = t["metadata"]
            assert md["stream"] == stream, f"{name}: stream {md['stream']}, pool {pool} reads {stream}"
            if "consumerGroup" in md:
                assert md["consumerGroup"] == group, f"{name}: group {md['consumerGroup']} != {group}"
            if "lagCount" in md:
                assert md.get("consumerGroup") == group
                assert int(md["lagCount"]) >= 1
                lag_triggers += 1
            assert not ({"address", "host", "password", "passwordFromEnv"} & set(md)), \
                f"{name}: Redis address/password belong in the TriggerAuthentication"
            auth = auths.get(t["authenticationRef"]["name"])
            assert auth, f"{name}: unknown TriggerAuthentication"
            params = {r["parameter"] for r in auth["spec"]["secretTargetRef"]}
            assert {"address", "password"} <= params, params
            assert str(md.get("databaseIndex", "0")) == _redis_db_of_example(), \
                f"{name}: databaseIndex differs from REDIS_URL's database"
        assert lag_triggers == 1, f"{name}: one consumer-group lag trigger (lagCount)"
    assert pools_scaled == worker_pools()


def _redis_db_of_example() -> str:
    for _p, d in k8s_kind("Secret"):
        url = (d.get("stringData") or {}).get("REDIS_URL", "")
        m = re.search(r"/(\d+)$", url)
        return m.group(1) if m else "0"
    return "0"


def test_required_variables_reach_their_processes():
    table = config_table()

    def required_for(proc: str) -> set[str]:
        req = {n for n, v in table.items() if v["required"] and proc in v["procs"]}
        return req | {n for n, procs in DEPLOY_REQUIRED.items() if proc in procs}

    for name, s in compose_services().items():
        proc = proc_of(s["binary"])
        if proc:
            missing = required_for(proc) - set(s["env"])
            assert not missing, f"compose {name} ({proc}) lacks {sorted(missing)}"
    for name, s in render_services().items():
        procs = {proc_of(s["binary"])} | ({proc_of(s["pre"][0])} if s["pre"] else set())
        for proc in procs:
            missing = required_for(proc) - set(s["env"])
            assert not missing, f"render {name} ({proc}) lacks {sorted(missing)}"
    for rec in k8s_containers():
        proc = proc_of(rec["binary"])
        missing = required_for(proc) - set(k8s_effective_env(rec))
        assert not missing, f"{rec['where']} ({proc}) lacks {sorted(missing)}"


def test_secrets_reach_only_the_processes_that_use_them():
    table = config_table()
    secret = {n for n, v in table.items() if v["secret"]}

    def check(where: str, proc: str | None, names) -> None:
        for n in set(names) & secret:
            assert proc in table[n]["procs"], f"{where} ({proc}) gets {n}, which it does not use"

    for name, s in compose_services().items():
        if s["binary"]:
            check(f"compose {name}", proc_of(s["binary"]), s["env"])
    for name, s in render_services().items():
        procs = {proc_of(s["binary"])} | ({proc_of(s["pre"][0])} if s["pre"] else set())
        for n in set(s["env"]) & secret:
            assert procs & table[n]["procs"], f"render {name} gets {n}, which it does not use"
    for rec in k8s_containers():
        check(rec["where"], proc_of(rec["binary"]), k8s_effective_env(rec))
    leaked = set(configmap_data()) & secret
    assert not leaked, f"secrets in the ConfigMap: {leaked}"


def _placeholder(value: str) -> bool:
    return bool(PLACEHOLDER_RE.match(value))


def _url_passwords(text: str) -> list[str]:
    return re.findall(r"\b[a-z][a-z0-9+.-]*://[^\s/:@\"']*:([^@\s\"']+)@", text)


def test_secret_values_are_never_in_manifests():
    table = config_table()
    secret = {n for n, v in table.items() if v["secret"]}
    # compose: secrets only by ${...} interpolation.
    for name, svc in compose()["services"].items():
        for k, v in _env_list_to_dict(svc.get("environment")).items():
            if k in secret or k in ("POSTGRES_PASSWORD", "REDISCLI_AUTH"):
                assert "${" in v, f"compose {name}: {k} must come from .env (${{...}})"
    # render: never a literal value for a secret.
    for svc in render()["services"]:
        for e in svc.get("envVars", []):
            if e.get("key") in secret:
                assert "value" not in e, f"render {svc['name']}: literal {e['key']}"
                assert {"fromDatabase", "fromService", "generateValue", "sync"} & set(e), e
                if "sync" in e:
                    assert e["sync"] is False
    # k8s: secrets only through secretKeyRef; the example Secret holds placeholders.
    for rec in k8s_containers():
        for n, e in rec["env"].items():
            if n in secret:
                assert "value" not in e and "secretKeyRef" in e.get("valueFrom", {}), \
                    f"{rec['where']}: {n} must come from a Secret"
    for p, d in k8s_kind("Secret"):
        assert not d.get("data"), f"{p.name}: use stringData placeholders, not base64 data"
        for k, v in (d.get("stringData") or {}).items():
            pw = _url_passwords(v)
            if pw:
                assert all(_placeholder(x) for x in pw), f"{p.name}: {k} has a real password?"
            elif k in secret or "password" in k:
                assert "REPLACE_ME" in v, f"{p.name}: {k} must be a REPLACE_ME placeholder"


def _manifest_files() -> list[Path]:
    files = [p for p in DOCKER.iterdir() if p.is_file()]
    files += [COMPOSE, COMPOSE_ENV_EXAMPLE, RENDER, FLY, DOC]
    files += sorted(K8S.glob("*"))
    return [f for f in files if f.is_file()]


TOKEN_PATTERNS = {
    "Anthropic key": r"sk-ant-[A-Za-z0-9_-]{10,}",
    "OpenAI/OpenRouter key": r"\bsk-(?:or-)?[A-Za-z0-9_-]{20,}",
    "AWS access key": r"\bAKIA[0-9A-Z]{16}\b",
    "GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{30,}",
    "Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "JWT": r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.",
}


def _entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def test_nothing_looks_like_a_real_secret():
    problems = []
    for f in _manifest_files():
        text = _read(f)
        rel = f.relative_to(ROOT)
        for what, rx in TOKEN_PATTERNS.items():
            for m in re.finditer(rx, text):
                problems.append(f"{rel}: {what}: {m.group(0)[:12]}...")
        for pw in _url_passwords(text):
            if not _placeholder(pw) and "${" not in pw:
                problems.append(f"{rel}: URL with a literal password ({pw[:3]}...)")
        for tok in re.findall(r"[A-Za-z0-9+=_-]{32,}", text):
            if "REPLACE_ME" in tok or tok.isupper() or tok.islower() and "_" in tok:
                continue
            if _entropy(tok) > 4.0 and re.search(r"\d", tok) and re.search(r"[A-Za-z]", tok):
                problems.append(f"{rel}: high-entropy string {tok[:6]}...")
        for line in text.splitlines():
            m = re.match(r"\s*(?:-\s*)?([A-Z][A-Z0-9_]*)\s*[:=]\s*\"?([^\"#\s]+)", line)
            if m and m.group(1) in config_table() and config_table()[m.group(1)]["secret"]:
                v = m.group(2)
                if not (_placeholder(v) or "${" in v or v in ("|", ">") or
                        all(_placeholder(p) for p in _url_passwords(v)) and "://" in v):
                    problems.append(f"{rel}: {m.group(1)} has a literal value")
    assert not problems, "\n".join(problems)


def test_docs_name_real_variables_and_files():
    text = _read(DOC)
    table = config_table()
    for name in set(re.findall(r"\b((?:CODEINSIGHT|SUPABASE)_[A-Z0-9_]*[A-Z0-9])\b", text)):
        assert name in table, f"docs/deploy.md names {name}, not in the configuration table"
    for p in ["deploy/docker/Dockerfile.gateway", "deploy/docker/Dockerfile.worker",
              "deploy/docker/Dockerfile.paas", "deploy/compose/docker-compose.yml",
              "deploy/render/render.yaml", "deploy/fly/fly.toml", "deploy/k8s"]:
        assert p in text, f"docs/deploy.md does not mention {p}"
    for stream, group in streams().values():
        assert f"`{stream}`" in text and f"`{group}`" in text
    # The gateway's routes, and what a worker's metrics listener serves.
    worker_paths = set(re.findall(r'"(/[a-z]+)"', _read(ROOT / "common" / "metrics_http.c")))
    assert "/livez" in worker_paths, worker_paths
    for path in re.findall(r"`(/[a-z]+z)`", text):
        assert path in get_routes() | worker_paths, f"docs/deploy.md names route {path}"
    assert "stunnel" in text and "terminationGracePeriodSeconds" in text


def test_used_by_gateway_means_the_gateway_reads_it():
    """docs/configuration.md's "Used by" column (the table's procs) says which
    process reads a variable, and that process refuses to start on a bad
    value. A row saying "gateway" must name a struct config member that
    gateway/ (or common/, which it links, config.c aside) actually reads."""
    table = config_table()
    src = _read(ROOT / "common" / "config.c")
    fields = dict(re.findall(r'^\s*\{"([A-Z][A-Z0-9_]*)",\s*CFG_T_\w+,\s*OFF\((\w+)\)', src, re.M))
    readers = "\n".join(_read(p) for d in ("gateway", "common") for p in sorted((ROOT / d).glob("*.c"))
                        if p.name != "config.c")
    unread = sorted(name for name, row in table.items()
                    if "gateway" in row["procs"] and name in fields
                    and not re.search(r"(->|\.)" + fields[name] + r"\b", readers))
    assert not unread, ("docs/configuration.md says the gateway uses these, but no gateway "
                        f"code reads them (only the worker does): {unread}")
