"""The one catalogue of Daraja's wire texts: result codes, error messages, acknowledgements and
the pages of the layers in front of Daraja, exactly as captured (odd spellings included).

Result codes:

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
INSUFFICIENT = 1
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


# error messages of the {requestId, errorCode, errorMessage} envelope
WRONG_CREDENTIALS = "Wrong credentials"
MERCHANT_UNKNOWN = "Merchant does not exist"
SUBSCRIBER_LOCKED = (
    "Unable to lock subscriber, a transaction is already in process for the current subscriber"
)
BEING_PROCESSED = "The transaction is being processed"
SPIKE_ARREST = "Error Occurred: Spike Arrest Violation"
QUOTA_VIOLATION = "Quota Violation"

# STK acknowledgements
ACCEPTED = "Success. Request accepted for processing"
QUERY_ACCEPTED = {
    "typo": "The service request has been accepted successsfully",  # sic: the live wire text
    "docs": "The service request has been accepted successfully",
}

# what the layers in front of Daraja answer (the edge's HTML page, the gateway's JSON fault)
EDGE_403_HTML = (
    '<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW">'
    '<meta name="format-detection" content="telephone=no"><meta name="viewport" '
    'content="initial-scale=1.0"><meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">'
    '</head><body style="margin:0px;height:100%"><iframe id="main-iframe" '
    'src="/_Incapsula_Resource?CWUDNSAI=22&xinfo=0-0-0%200NNN%20RT(0%200)%20q(0%20-1%20-1%20-1)'
    '%20r(0%20-1)%20B12(4,315,0)%20U18&incident_id=0-000000000000000000&edet=12&cinfo=04000000" '
    'frameborder=0 width="100%" height="100%" marginheight="0px" marginwidth="0px">'
    "Request unsuccessful. Incapsula incident ID: 0-000000000000000000</iframe></body></html>"
)

GATEWAY_FAULT = {
    "fault": {
        "faultstring": "The Service is temporarily unavailable",
        "detail": {"errorcode": "messaging.adaptors.http.flow.ServiceUnavailable"},
    }
}

# C2B (ledger reference 2-4): the register ack's key is misspelt on the wire, in every capture
C2B_ORIGINATOR_KEY = "OriginatorCoversationID"  # sic: no "n" after "Co"
C2B_REGISTER_CODE = {"v1": "0", "v2": "00000000"}  # v2: 2026 sandbox capture; v1: docs
C2B_REGISTER_DESC = {"v1": "success", "v2": "Success"}  # lower-case in the v1 captures
C2B_SIMULATE_ACCEPTED = "Accept the service request successfully."
C2B_ALREADY_REGISTERED = "Urls are already registered."  # production: 500.003.1001
C2B_URL_WORDS = ("m-pesa", "mpesa", "safaricom", "exec", "exe", "cmd", "sql", "query")
C2B_URL_WORD_ERROR = "Bad Request - Invalid {field} - URL has the word {word}"  # 400.003.02
C2B_TRANSACTION_TYPES = {"paybill": "Pay Bill", "till": "Buy Goods"}
# maps a merchant's reject code -> its meaning (validation answers, reference 4.4)
C2B_REJECT_CODES = {
    "C2B00011": "Invalid MSISDN",
    "C2B00012": "Invalid Account Number",
    "C2B00013": "Invalid Amount",
    "C2B00014": "Invalid KYC Details",
    "C2B00015": "Invalid Shortcode",
    "C2B00016": "Other Error",
}
# what the gateway answers when a non-C2B shortcode (174379) registers URLs: Apigee's
# ServiceCallout failure; the faultstring is captured, the rest is Apigee's usual shape
C2B_URL_VAULT_FAULT = {
    "Envelope": {
        "encodingStyle": "http://schemas.xmlsoap.org/soap/encoding/",
        "Body": {
            "Fault": {
                "faultcode": "soap:Server",
                "faultstring": "Execution of ServiceCallout SCO-AddURLVault failed. "
                "Reason: ResponseCode 409 is treated as error",
                "detail": {"source": {"errorcode": "steps.servicecallout.ExecutionFailed"}},
            }
        },
    }
}

# Dynamic QR (ledger reference 10): both sandbox captures answer "00" and no RequestID; the
# description changed between them, so --qr-wording picks one
QR_RESPONSE_CODE = "00"
QR_DESCRIPTIONS = {
    "2026": "The service request is processed successfully.",  # sandbox 2026-10
    "2025": "QR Code Successfully Generated.",  # sandbox 2025-08, and the docs
}

# Initiator APIs: B2C, B2B, Reversal, Transaction Status, Account Balance (ledger reference 0, 12)
INITIATOR_ACCEPTED = "Accept the service request successfully."  # with the period, as captured
# maps result code -> ResultDesc of the initiator APIs (reference 12; captures over the docs)
INITIATOR_RESULTS: dict[int | str, str] = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction.",
    2: "Declined due to limit rule: less than the smallest transaction value.",
    3: "Declined due to limit rule: greater than the maximum transaction amount.",
    4: "Declined due to limit rule: would exceed daily transfer limit",
    8: "Declined due to limit rule: would exceed the maximum balance.",
    11: "The DebitParty is in an invalid state.",
    21: "The initiator is not allowed to initiate this request",
    2001: "The initiator information is invalid.",
    2006: "Declined due to account rule: The account status does not allow this transaction.",
    2028: "The request is not permitted according to product assignment.",
    2032: "The transaction receipt number does not exist.",
    2040: "Credit Party customer type (Unregistered or Registered Customer) can't be supported "
          "by the service.",
    8006: "The security credential is locked.",
    "SFC_IC0003": "The operator does not exist.",
    "R000001": "The transaction has already been reversed",  # docs table; punctuation uncertain
    "R000002": "The OriginalTransactionID is invalid.",
}
INITIATOR_LOCKED_ERROR = "API Password is locked. "  # sic: AB's ErrorMsg, with a trailing space
DUPLICATE_ORIGINATOR = "Duplicate OriginatorConversationID."  # B2C v3: 500.002.1001
# the ReferenceData item Daraja adds: Safaricom's internal URL, never the client's QueueTimeOutURL
INTERNAL_QUEUE_URL = "https://internalsandbox.safaricom.co.ke/mpesa/{api}results/v1/submit"
# emulator-invented: no QueueTimeOutURL POST was ever captured (reference 11)
QUEUE_TIMEOUT_DESC = "The service request timed out."
# Transaction Status: ReasonType and DebitAccountType by what moved the money (reference 6)
TS_REASON_TYPES = {
    "stk": "Pay Bill Online", "stk-till": "Pay Merchant Online",  # till: inferred
    "c2b": "Pay Utility", "c2b-till": "Pay Merchant",  # inferred from the paybill captures
    "BusinessPayment": "Business Payment to Customer via API",
    "SalaryPayment": "Salary Payment via API",
    "PromotionPayment": "Promotion Payment via API",  # by analogy
    "BusinessPayBill": "Business Pay Bill",  # inferred: no capture of a TS on a B2B receipt
    "BusinessBuyGoods": "Business Buy Goods",  # inferred
    "reversal": "Reversal",  # inferred
}
TS_CUSTOMER_ACCOUNT = "MMF Account For Customer"


def describe_initiator(code: int | str) -> str | None:
    """The ResultDesc an initiator API sends for a code, or None when unknown."""
    return INITIATOR_RESULTS.get(code)
