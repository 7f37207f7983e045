"""Money as integer cents: exact, never float. Daraja writes amounts with two decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

Cents = int  # an amount of Kenyan shillings times 100


def cents(value: int | str | Decimal) -> Cents:
    """Shillings (a whole number, or text with up to two decimals) as cents; ValueError else."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int):
        return value * 100
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"not an amount with at most two decimals: {value!r}")
    return int(amount * 100)


def shillings(amount: Cents) -> str:
    """Cents as Daraja writes them: "1.00", "-660.00", "41880264.80"."""
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 100)
    return f"{sign}{whole}.{part:02d}"
