"""Reading an 835 file: bytes to text (BOM and encoding detected), then billing's X12 parser."""

import codecs
from pathlib import Path

from billing.x12_835 import ParseResult, X12Error, parse_835

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_x12(raw: bytes) -> str:
    """X12 is ASCII in practice; accept UTF-8 (with or without BOM), UTF-16 with a BOM, else Latin-1."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith(_UTF16_BOMS):
        return raw.decode("utf-16")
    if b"\x00" in raw:
        raise X12Error("not an X12 file: it holds binary data")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # A stray accented character in a name must not make the whole remittance unreadable.
        return raw.decode("latin-1")


def parse_835_bytes(raw: bytes) -> ParseResult:
    return parse_835(decode_x12(raw))


def read_835(path: Path) -> ParseResult:
    """Parse the 835 at path; OSError if it cannot be read, X12Error if it is not an 835."""
    return parse_835_bytes(Path(path).read_bytes())
