from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator import EmulatorServer, Settings
from tests.helpers import CallbackReceiver, Daraja


@pytest.fixture(scope="session")
def receiver() -> Iterator[CallbackReceiver]:
    r = CallbackReceiver()
    yield r
    r.close()


@pytest.fixture
def settings() -> Settings:
    """Override in a test module for other options."""
    return Settings(time_scale=0, seed=7)


@pytest.fixture
def server(settings: Settings) -> Iterator[EmulatorServer]:
    with EmulatorServer(settings) as s:
        yield s


@pytest.fixture
def daraja(server: EmulatorServer, receiver: CallbackReceiver) -> Iterator[Daraja]:
    receiver.status, receiver.delay = 200, 0.0
    client = Daraja(server.url, receiver.url())
    yield client
    client.close()
