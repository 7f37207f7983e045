from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator import EmulatorServer, Settings
from tests.helpers import CallbackReceiver, Daraja


@pytest.fixture(scope="session")
def receiver() -> Iterator[CallbackReceiver]:
    r = CallbackReceiver()
    yield r
    r.close()


DEFAULT = Settings(time_scale=0, seed=7)


@pytest.fixture
def settings() -> Settings:
    """Override in a test module for other options; those tests get a server of their own."""
    return DEFAULT


@pytest.fixture(scope="session")
def shared_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(DEFAULT) as s:
        yield s


@pytest.fixture
def server(settings: Settings, request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    """A real server: the session's one, reset, for default settings; else a fresh one."""
    if settings != DEFAULT:
        with EmulatorServer(settings) as s:
            yield s
        return
    s: EmulatorServer = request.getfixturevalue("shared_server")
    with httpx.Client(base_url=s.url) as admin:
        admin.post("/_emulator/reset").raise_for_status()
        admin.post("/_emulator/time", json={"scale": DEFAULT.time_scale}).raise_for_status()
        admin.put("/_emulator/scenarios/default", json={"name": "success"}).raise_for_status()
    yield s


@pytest.fixture
def daraja(server: EmulatorServer, receiver: CallbackReceiver) -> Iterator[Daraja]:
    receiver.status, receiver.delay = 200, 0.0
    client = Daraja(server.url, receiver.url())
    yield client
    client.close()
