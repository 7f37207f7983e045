"""The text inside a Dynamic QR: an EMVCo merchant-presented payload, the form of Kenya's KE-QR
standard, so any EMV-aware reader (and the dashboard) can read it back.

No capture shows what M-PESA's own codes hold, so the merchant-account template (tag 26) is the
emulator's: 00 its name, 01 the TrxCode, 02 the CPI. The rest is plain EMVCo: 00 format "01",
01 "12" (dynamic: one payment), 52 category, 53 currency 404 (KES), 54 amount, 58 KE, 59 the
merchant's name, 60 city, 62/01 the bill number (RefNo) and 63 a CRC-16/CCITT-FALSE of all
that precedes it (including "6304"). Lengths count characters (code points); values hold at
most 99 of them, which the wire checks before a code is made.
"""

from __future__ import annotations

import msgspec

TEMPLATE_ID = "DARAJA-EMULATOR"  # tag 26/00: whose merchant-account template this is
CURRENCY_KES = "404"
CITY = "NAIROBI"
CATEGORY = "0000"
MAX_VALUE = 99  # a TLV length field has two digits


class PayloadError(ValueError):
    """The text is not a Dynamic QR of this emulator (bad TLV, CRC or a missing field)."""


class Decoded(msgspec.Struct, frozen=True):
    merchant_name: str
    ref_no: str
    amount: int
    trx_code: str
    cpi: str


def _tlv(tag: str, value: str) -> str:
    if len(value) > MAX_VALUE:
        raise PayloadError(f"tag {tag}: {len(value)} characters, at most {MAX_VALUE}")
    return f"{tag}{len(value):02d}{value}"


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of the UTF-8 text, as 4 hex capitals."""
    crc = 0xFFFF
    for byte in text.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def encode(merchant_name: str, ref_no: str, amount: int, trx_code: str, cpi: str) -> str:
    account = _tlv("00", TEMPLATE_ID) + _tlv("01", trx_code) + _tlv("02", cpi)
    body = "".join([
        _tlv("00", "01"), _tlv("01", "12"), _tlv("26", account), _tlv("52", CATEGORY),
        _tlv("53", CURRENCY_KES), _tlv("54", str(amount)), _tlv("58", "KE"),
        _tlv("59", merchant_name), _tlv("60", CITY), _tlv("62", _tlv("01", ref_no)),
    ]) + "6304"
    return body + crc16(body)


def fields(text: str) -> dict[str, str]:
    """Top-level (or template) TLV fields; PayloadError when the lengths do not add up."""
    found: dict[str, str] = {}
    i = 0
    while i < len(text):
        tag, size = text[i:i + 2], text[i + 2:i + 4]
        if len(tag) < 2 or not (tag.isascii() and tag.isdigit() and size.isascii()
                                and size.isdigit()):
            raise PayloadError(f"no tag and length at character {i}")
        value = text[i + 4:i + 4 + int(size)]
        if len(value) != int(size):
            raise PayloadError(f"tag {tag} runs past the end")
        found[tag] = value
        i += 4 + int(size)
    return found


def decode(text: str) -> Decoded:
    """The payment a scanned code asks for; PayloadError says why a text is not one."""
    if len(text) < 8 or text[-8:-4] != "6304" or crc16(text[:-4]) != text[-4:].upper():
        raise PayloadError("the CRC (tag 63) is missing or wrong")
    top = fields(text)
    account = fields(top.get("26", ""))
    if account.get("00") != TEMPLATE_ID:
        raise PayloadError("not a Dynamic QR of this emulator (tag 26)")
    amount = top.get("54", "")
    if not (amount.isascii() and amount.isdigit()):
        raise PayloadError("no whole amount (tag 54)")
    return Decoded(merchant_name=top.get("59", ""), ref_no=fields(top.get("62", "")).get("01", ""),
                   amount=int(amount), trx_code=account.get("01", ""), cpi=account.get("02", ""))
