"""What EmulatorHandle raises: one base, so a caller can catch everything the handle says."""

from __future__ import annotations


class EmulatorError(Exception):
    """Base of every error this package raises."""


class EmulatorUnreachable(EmulatorError):
    """No emulator answers at the URL; `refused` when nothing listens there at all."""

    def __init__(self, message: str, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


class AdminAPIError(EmulatorError):
    """The admin API answered 4xx/5xx; `message` is its `error` field."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


class CallbackTimeout(EmulatorError, AssertionError):
    """wait_for_callback saw no callback in time; the message tells what did happen."""


class ResultTimeout(CallbackTimeout):
    """wait_for_result saw no initiator result in time (a CallbackTimeout, so code that
    catches that catches this too); the message tells what did happen."""
