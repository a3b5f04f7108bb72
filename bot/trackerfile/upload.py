"""Check the bytes of an uploaded tracker file (name, size, encoding) and decode them."""

from __future__ import annotations

import logging
from pathlib import PurePath

from bot.errors import InputError
from bot.quoting import quote_input

log = logging.getLogger(__name__)

MAX_BYTES = 512 * 1024
ACCEPTED_SUFFIXES = (".md", ".markdown", ".txt")


def decode_upload(data: bytes, filename: str) -> str:
    """Check an uploaded tracker (name, size, encoding) and return its text."""
    shown = quote_input(filename or "the file", 60)
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise InputError(f"{shown} is not a Markdown file: upload the tracker as a .md file "
                         "(the one `/export markdown` gives you, or a filled-in copy of the "
                         "tracker template).")
    if len(data) > MAX_BYTES:
        raise InputError(f"{shown} is {len(data) // 1024} KiB; a tracker may be at most "
                         f"{MAX_BYTES // 1024} KiB (an exported one is about 25 KiB).")
    if not data.strip():
        raise InputError(f"{shown} is empty; upload your filled-in tracker.")
    boms = ((b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32-be",
            "UTF-32"), (b"\xef\xbb\xbf", "utf-8", "UTF-8"), (b"\xff\xfe", "utf-16-le", "UTF-16"),
            (b"\xfe\xff", "utf-16-be", "UTF-16"))
    for bom, codec, label in boms:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError:
                raise InputError(f"{shown} starts like {label} text but is not valid {label}; "
                                 "save it again as UTF-8 and upload it.") from None
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if b"\x00" in data:
                raise InputError(f"{shown} is not a text file (it holds NUL bytes); upload the "
                                 "tracker as UTF-8 Markdown text.") from None
            raise InputError(
                f"{shown} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}): it "
                "seems to use another encoding (such as Windows-1252 or Latin-1). Save it as "
                "UTF-8 (or UTF-16 with a byte order mark) and upload it again.") from None
    if "\x00" in text:
        raise InputError(f"{shown} is not a text file (it holds NUL characters); upload the "
                         "tracker as UTF-8 Markdown text.")
    return text

