"""Daraja's errors as domain exceptions that carry their wire code.

Exception tree::

    DarajaError                      {requestId, errorCode, errorMessage}; status from the code
    ├── BadRequest                   400.002.02 "Bad Request - Invalid <Field>"
    ├── InvalidUrl                   400.003.02 (C2B: "... - URL has the word MPESA")
    ├── InvalidPayload               400.002.05 "Invalid Request Payload" (oversized bodies)
    ├── InvalidAuthentication        400.008.01 (OAuth: Authorization header not Basic)
    ├── InvalidGrantType             400.008.02 (OAuth: grant_type not client_credentials)
    ├── InvalidAccessToken           404.001.03 (missing, unknown or expired Bearer token)
    ├── ResourceNotFound             404.001.01 (unknown path)
    ├── MethodNotAllowed             405.001
    ├── SpikeArrest                  500.003.02 (the gateway's rate policy)
    ├── QuotaViolation               500.003.03
    ├── ProcessingError              500.001.1001 (Wrong credentials, Merchant does not exist,
    │                                 Unable to lock subscriber, The transaction is being processed)
    └── InternalError                500.003.1001 (a bug of ours; never expected)
    UnknownCredentials               not a DarajaError: OAuth answers HTTP 400 with an empty body

Only `render` (in the app layer) turns these into HTTP; the domain raises them and knows no HTTP.
"""

from __future__ import annotations

from emulator.kernel import texts


class DarajaError(Exception):
    """An error Daraja answers in its {requestId, errorCode, errorMessage} envelope."""

    code: str = "500.003.1001"
    message: str = "Internal Server Error"

    def __init__(
        self, message: str | None = None, *, request_id: str | None = None, why: str = ""
    ) -> None:
        if message is not None:
            self.message = message
        self.request_id = request_id  # overrides the generated requestId (legacy pending query)
        self.why = why  # for the log and the request journal only, never on the wire
        super().__init__(f"{self.code} {self.message}")

    @property
    def status(self) -> int:
        """HTTP status: the first segment of the error code, as Daraja does."""
        return int(self.code.split(".", 1)[0])


class BadRequest(DarajaError):
    code = "400.002.02"

    def __init__(self, field: str, **kwargs: str | None) -> None:
        self.field = field
        super().__init__(f"Bad Request - Invalid {field}", **kwargs)


class InvalidPayload(DarajaError):
    code = "400.002.05"
    message = "Invalid Request Payload"


class InvalidAuthentication(DarajaError):
    code = "400.008.01"
    message = "Invalid Authentication passed"


class InvalidGrantType(DarajaError):
    code = "400.008.02"
    message = "Invalid grant type passed"


class InvalidAccessToken(DarajaError):
    code = "404.001.03"
    message = "Invalid Access Token"


class ResourceNotFound(DarajaError):
    code = "404.001.01"
    message = "Resource not found"


class MethodNotAllowed(DarajaError):
    code = "405.001"
    message = "Method Not Allowed"


class ProcessingError(DarajaError):
    code = "500.001.1001"


class SpikeArrest(DarajaError):
    code = "500.003.02"
    message = texts.SPIKE_ARREST


class QuotaViolation(DarajaError):
    code = "500.003.03"
    message = texts.QUOTA_VIOLATION


class InternalError(DarajaError):
    code = "500.003.1001"
    message = "Internal Server Error"


class UnknownCredentials(Exception):
    """Well-formed Basic credentials that no configured app owns: Daraja sends 400, empty body."""



# the texts, kept in the one catalogue (texts.py), re-exported where errors are raised
WRONG_CREDENTIALS = texts.WRONG_CREDENTIALS
MERCHANT_UNKNOWN = texts.MERCHANT_UNKNOWN
SUBSCRIBER_LOCKED = texts.SUBSCRIBER_LOCKED
BEING_PROCESSED = texts.BEING_PROCESSED


class InvalidUrl(DarajaError):
    """400.003.02: a C2B URL holding a forbidden word ("URL has the word MPESA")."""

    code = "400.003.02"
