"""The daraja-emulator command: flags, DARAJA_* variables, start-up errors, check-scenarios."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from emulator.cli import main, serve_parser, settings_from


def settings(argv: list[str], env: dict[str, str] | None = None):  # noqa: ANN201
    return settings_from(serve_parser(env or {}).parse_args(argv))


def test_defaults_listen_on_a_port_shops_do_not_use() -> None:
    s = settings([])
    assert (s.host, s.port) == ("127.0.0.1", 8765)
    assert s.port not in (8000, 8080, 3000, 5000)
    assert s.time_scale == 1.0 and s.shortcodes == {
        "174379": "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"}


def test_every_flag_has_an_environment_variable(tmp_path: Path) -> None:
    env = {
        "DARAJA_HOST": "0.0.0.0", "DARAJA_PORT": "9001", "DARAJA_TIME_SCALE": "0.5",
        "DARAJA_SEED": "42", "DARAJA_SCENARIOS": f"{tmp_path},{tmp_path / 'b'}",
        "DARAJA_APP": "k1:s1,k2:s2", "DARAJA_SHORTCODE": "600000:pk",
        "DARAJA_PENDING_QUERY": "legacy", "DARAJA_QUERY_WORDING": "docs",
        "DARAJA_REQUIRE_HTTPS": "1", "DARAJA_NO_BUNDLED_SCENARIOS": "true",
        "DARAJA_DEFAULT_SCENARIO": "cancelled", "DARAJA_CALLBACK_TIMEOUT": "3",
        "DARAJA_JOURNAL_SIZE": "50", "DARAJA_MAX_BODY_BYTES": "1000",
        "DARAJA_ADMIN_TOKEN": "t0ken", "DARAJA_LOG_LEVEL": "warning",
    }
    s = settings([], env)
    assert (s.host, s.port, s.time_scale, s.seed) == ("0.0.0.0", 9001, 0.5, 42)
    assert s.scenario_dirs == (tmp_path, tmp_path / "b")
    assert s.apps == {"k1": "s1", "k2": "s2"}
    assert s.shortcodes["600000"] == "pk" and "174379" in s.shortcodes
    assert (s.pending_query, s.query_wording, s.require_https) == ("legacy", "docs", True)
    assert not s.bundled_scenarios and s.default_scenario == "cancelled"
    assert (s.callback_timeout, s.journal_size, s.max_body_bytes) == (3.0, 50, 1000)
    assert (s.admin_token, s.log_level) == ("t0ken", "warning")
    parser = serve_parser({})
    flags = {a.option_strings[0] for a in parser._actions if a.option_strings} - {"-h", "--version"}
    helps = parser.format_help().replace("\n", " ")
    for flag in flags:  # the help names each flag's variable
        assert "DARAJA_" + flag[2:].replace("-", "_").upper() in helps.replace(" ", "")


def test_flags_win_over_nothing_and_repeat(tmp_path: Path) -> None:
    s = settings(["--shortcode", "600000:a", "--shortcode", "600001:b", "--app", "k:s"])
    assert s.shortcodes["600001"] == "b" and s.apps == {"k": "s"}


def test_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "daraja.yaml"
    cfg.write_text('apps:\n  mykey: mysecret\nshortcodes:\n  "600100": passkey100\n')
    s = settings(["--config", str(cfg)])
    assert s.apps == {"mykey": "mysecret"} and s.shortcodes["600100"] == "passkey100"
    cfg.write_text("apps: {}\nshortcode: {}\n")
    assert main(["--config", str(cfg)]) == 2


def test_broken_scenario_stops_start_up_naming_file_line_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "slow.yaml").write_text("name: slow\nresult_code: 0\n\ndelay: soon\n")
    assert main(["--scenarios", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "slow.yaml:4" in err and "delay" in err


def test_check_scenarios(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine.yaml").write_text(
        "name: mine\nresult_code: 1032\ndelay: 1\nmatch:\n  phones: ['254799000001']\n")
    assert main(["check-scenarios", str(tmp_path)]) == 0
    assert "mine" in capsys.readouterr().out
    (tmp_path / "bad.yaml").write_text("name: bad\nresult_code: 1032\ndelai: 1\n")
    assert main(["check-scenarios", str(tmp_path)]) == 1
    assert "bad.yaml:3" in capsys.readouterr().err


def test_command_starts_and_serves(tmp_path: Path) -> None:
    """The installed entry point, as a user runs it, configured by environment alone."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DARAJA_PORT": str(port), "DARAJA_TIME_SCALE": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "emulator"], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "did not start"
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert r.json()["time_scale"] == 0
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Daraja Emulator" in err


def test_check_scenarios_names_every_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nresult_code: 1032\ndelay: soon\n")
    (tmp_path / "b.yaml").write_text("name: b\nresult_code: 1\n")
    (tmp_path / "c.yaml").write_text("name: c\nresult_code: 1\ndelay: 2\n")
    assert main(["check-scenarios", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert "a.yaml:3" in err[0] and "b.yaml" in err[1] and "delay" in err[1]


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["--port", "99999"], {}, "must be a port number from 0 to 65535"),
        (["--seed", "x"], {}, "must be a whole number, got 'x'"),
        (["--time-scale", "abc"], {}, "must be a number, got 'abc'"),
        ([], {"DARAJA_LOG_LEVEL": "loud"}, "DARAJA_LOG_LEVEL: must be one of"),
        ([], {"DARAJA_PENDING_QUERY": "x"}, "DARAJA_PENDING_QUERY: must be one of"),
        ([], {"DARAJA_REQUIRE_HTTPS": "maybe"}, "DARAJA_REQUIRE_HTTPS: expected 1/true"),
    ],
)
def test_bad_flags_and_variables_are_refused_in_words(
    argv: list[str], env: dict[str, str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        settings(argv, env)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["dir", "under-a-file"])
def test_an_unusable_state_path_is_refused_without_a_traceback(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")
    path = tmp_path if where == "dir" else tmp_path / "file" / "s.db"
    assert main(["--state", str(path), "--port", "0"], env={}) == 2
    err = capsys.readouterr().err
    assert "cannot be opened" in err and "Traceback" not in err


def test_settings_replace_is_a_checked_copy_and_every_flag_has_its_field() -> None:
    from types import MappingProxyType

    from emulator.config import FLAGS, Settings

    before = Settings(apps={"key": "secret"})
    after = before.replace(port=9000, time_scale=0)
    assert (after.port, after.time_scale, before.port) == (9000, 0, 8765)
    assert isinstance(after.apps, MappingProxyType) and dict(after.apps) == {"key": "secret"}
    with pytest.raises(ValueError, match="time_scale"):
        before.replace(time_scale=-1)  # checked as a new Settings is
    with pytest.raises(TypeError):
        before.replace(no_such_setting=1)
    # each flag describes the field it is declared beside: its dest is that field
    assert set(FLAGS) <= set(Settings.__struct_fields__)
    parser = serve_parser({})
    for action in parser._actions:
        if action.dest in FLAGS:
            assert action.option_strings == [FLAGS[action.dest]["flag"]]
    assert {a.dest for a in parser._actions} >= set(FLAGS)


@pytest.mark.parametrize(("field", "value", "said"), [
    ("port", 99999, "port must be a whole number from 0 to 65,535, got 99999"),
    ("customer_balance", 10**13,
     "customer_balance must be a whole number from 0 to 1,000,000,000,000, got 10000000000000"),
    ("customer_balance", "lots",
     "customer_balance must be a whole number from 0 to 1,000,000,000,000, got 'lots'"),
    ("seed", "x", "seed must be a whole number, got 'x'"),
    ("time_scale", float("nan"), "time_scale must be a number from 0 to 1000, got nan"),
    ("callback_timeout", 0, "callback_timeout must be a number > 0, got 0"),
    ("journal_size", 1.5, "journal_size must be a whole number >= 1, got 1.5"),
    ("port", True, "port must be a whole number from 0 to 65,535, got True"),
])
def test_settings_refuse_a_wrong_number_naming_the_field(field: str, value: object,
                                                         said: str) -> None:
    """Settings built in code (a pytest fixture, EmulatorServer) are checked as the command
    line's flags are: a wrong value stops there, not as a 500 on some later request."""
    from emulator.config import Settings

    with pytest.raises(ValueError) as exc:
        Settings(**{field: value})
    assert str(exc.value) == said
    with pytest.raises(ValueError):
        Settings().replace(**{field: value})


def test_settings_take_any_integer_type_as_a_plain_int() -> None:
    from emulator.config import Settings

    class NumpyLike:  # numpy.int64 and friends: integers by __index__, not int subclasses
        def __index__(self) -> int:
            return 42

    settings = Settings(seed=NumpyLike(), customer_balance=NumpyLike())  # type: ignore[arg-type]
    assert (type(settings.seed), settings.seed, settings.customer_balance) == (int, 42, 42)
