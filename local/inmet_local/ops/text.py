"""Small wording rules shared by every table the CLI prints."""

from __future__ import annotations

import re

_LINE_PREFIX = re.compile(r"^line (\d+)\b", re.IGNORECASE)


def issue_text(code: str | None, message: str | None, line: int | None) -> str:
    """``code line N: message`` without saying the line twice: the validator's messages
    already start with "Line N …" (`bad_hour line 17: Line 17: …` read badly)."""
    text = (message or "").strip()
    match = _LINE_PREFIX.match(text)
    where = f"line {line}: " if line and not (match and int(match.group(1)) == line) else ""
    return " ".join(part for part in (code or "", f"{where}{text}".strip()) if part)
