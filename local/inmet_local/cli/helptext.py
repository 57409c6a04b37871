"""What `--help` shows in the type column: the user's words, not the code's types.

Typer prints each parameter's Python type there (``<bool>``, ``<list[Path]>``, ``<str>``) and a
required argument as ``{paths}...`` in the usage line. A newcomer reads neither. :func:`install`
replaces the column with a word a user understands, or nothing:

- a flag (``--json``, ``--upload``): nothing: the flag says it all;
- a parameter with its own ``metavar=`` (``key|iam``): that; an argument shows it as its name;
- a path: ``PATH``; a number: ``N`` (integers; a range is printed beside it), ``SECONDS`` when the
  option's name says it is a time, else ``NUMBER``; text: ``TEXT``; a repeated option: the word
  and ``...``; in the usage line an argument is ``PATH...`` (required) or ``[PATH]...``.

tests/unit/test_cli_help.py walks every command's `--help` and fails on a Python type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

import typer.core

_TIME_WORDS = ("timeout", "seconds", "interval", "wait")


def _word(annotation: Any, name: str) -> str:
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return _word(item, name) + "..."
    if isinstance(annotation, type):
        if issubclass(annotation, Path):
            return "PATH"
        if issubclass(annotation, bool):
            return ""
        if issubclass(annotation, int):
            return "N"
        if issubclass(annotation, float):
            return "SECONDS" if any(w in name for w in _TIME_WORDS) else "NUMBER"
    return "TEXT"


def user_type(param: Any) -> str | None:
    """The type column of ``param`` (a parameter of Typer's own click) in words, or None."""
    if getattr(param, "is_flag", False):
        return None
    if param.metavar:
        # an argument shows its metavar as its name already
        return None if isinstance(param, typer.core.TyperArgument) else param.metavar
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    word = _word(annotation, param.name or "")
    return word or None


def _option_type(self: Any, ctx: Any) -> str | None:
    return user_type(self)


def _usage_name(self: typer.core.TyperArgument) -> str:
    """``PATH...`` for a required argument, ``[PATH]...`` for an optional one (click's own
    convention) instead of Typer's ``{paths}...``."""
    name = (self.metavar or self.name or "").upper()
    if not self.required:
        name = f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


def install() -> None:
    """Make every Typer option and argument show :func:`user_type` (idempotent)."""
    for cls in (typer.core.TyperOption, typer.core.TyperArgument):
        if hasattr(cls, "display_type_rich"):
            cls.display_type_rich = _option_type  # type: ignore[method-assign]
    if hasattr(typer.core.TyperArgument, "_usage_display_name"):
        typer.core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
