"""Request data made safe for a log line: control characters escaped.

A CallBackURL, a path or a receiver's error text can carry terminal escapes (ESC [ 2 J clears a
screen, a CR rewrites the line before it) or a newline that forges a second log line. Every log
line built from request data passes it through `escape` first.
"""

from __future__ import annotations


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str) -> str:
    """`text` with every non-printable character (C0, DEL, C1, separators, unassigned) written
    as a Python-style escape; printable text (the usual case) comes back as it is. A backslash is
    doubled only when something was escaped, so an escaped line cannot be mistaken for a plain one.
    """
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() and char != "\\" else
        ("\\\\" if char == "\\" else _escape_char(char))
        for char in text
    )
