"""Daraja STK result codes and their exact wire texts.

Texts follow live captures where they disagree with the docs (no trailing period on 1, 1019,
1032, 1037; a period on 0 and 2001), see daraja-reference.md section 4.3.
"""

from __future__ import annotations

# maps result code -> ResultDesc exactly as Daraja sends it
RESULT_DESCRIPTIONS: dict[int | str, str] = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction",
    2: "Declined due to limit rule: less than the smallest transaction value.",
    3: "Declined due to limit rule: greater than the maximum transaction amount.",
    4: "Declined due to limit rule: would exceed daily transfer limit.",
    8: "Declined due to limit rule: would exceed the maximum balance.",
    17: "Rule limited.",
    1001: (
        "Unable to lock subscriber, a transaction is already in process for the current subscriber"
    ),
    1019: "Transaction has expired",
    1025: "An error occurred while sending a push request.",
    1031: "Request cancelled by user",
    1032: "Request cancelled by user",
    1037: "DS timeout user cannot be reached",
    2001: "The initiator information is invalid.",
    2028: "The request is not permitted according to product assignment.",
    8006: "The security credential is locked.",
    9999: "An error occurred while sending a push request.",
    "SFC_IC0003": "The operator does not exist.",
    "E3008": "Error, the user has a bad debt contract.",
}

SUCCESS = 0
TIMEOUT = 1037
PUSH_ERROR = 1025
PENDING_QUERY_CODE = "4999"
PENDING_QUERY_DESC = "The transaction is still under processing"


def normalise(code: int | str) -> int | str:
    """Numeric codes are numbers ("1032" -> 1032), so callbacks carry them as JSON numbers."""
    if isinstance(code, str) and code.isascii() and code.isdigit():
        return int(code)
    return code


def describe(code: int | str) -> str | None:
    """The wire ResultDesc for a code, or None when the catalogue does not know it."""
    return RESULT_DESCRIPTIONS.get(code)
