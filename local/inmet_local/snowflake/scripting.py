"""Snowflake Scripting rules that no local stand-in enforces, checked on every rendered
``EXECUTE IMMEDIATE $$ … $$`` body of snowflake_sql/.

fakesnow never runs a scripting body and sqlfluff only parses the statements inside it, so a
body that breaks a documented rule would fail only on a real account. Each rule below is
stated by a page of Snowflake's documentation:

- ``handler-variable``: "To use a variable in an exception handler, the variable must be
  declared in the DECLARE section or passed as an argument to a stored procedure. It can't be
  declared in the BEGIN … END section." (EXCEPTION (Snowflake Scripting), usage notes,
  https://docs.snowflake.com/en/sql-reference/snowflake-scripting/exception; "Passing variables
  to an exception handler", https://docs.snowflake.com/en/developer-guide/snowflake-scripting/exceptions).
  A FOR loop's record and a LET variable are declared in BEGIN … END, so neither may appear
  in a handler.
- ``handler-let``: no LET inside a handler (the same rule, applied to the handler's own
  statements: a variable a handler needs is declared in DECLARE).
- ``handler-sqlerrm-first``: SQLCODE, SQLERRM and SQLSTATE describe the exception being
  handled ("Handling exceptions": "When an exception occurs, you can get information about
  the exception by reading the following three built-in variables"); a handler reads them
  before it runs any other statement (a ROLLBACK, an INSERT), so they still describe it.
- ``transaction-end``: a BEGIN TRANSACTION is followed, in the same statement list, by a
  COMMIT or a ROLLBACK, and the block that opens it (or one around it) has an exception
  handler that runs ROLLBACK: the transaction ends on the normal path and on the error path
  ("Transactions", https://docs.snowflake.com/en/sql-reference/transactions: a transaction
  is ended by COMMIT or ROLLBACK).
- ``transaction-ddl``: no DDL between BEGIN TRANSACTION and its end ("Transactions":
  "Explicit transactions should contain only DML statements and query statements. DDL
  statements implicitly commit active transactions").
- ``exception-declared``: a WHEN clause names OTHER, a built-in exception (STATEMENT_ERROR,
  EXPRESSION_ERROR) or an exception declared in DECLARE (EXCEPTION (Snowflake Scripting):
  "An exception name defined in the DECLARE portion of the current block, or in an enclosing
  block").

tests/unit/test_scripting_rules.py applies :func:`check_body` to every body and shows each rule
refusing a body that breaks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_SCRIPTING_BODY = re.compile(r"EXECUTE\s+IMMEDIATE\s+\$\$(?P<body>.*?)\$\$", re.S | re.I)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DDL = re.compile(r"^(CREATE|ALTER|DROP|UNDROP|TRUNCATE\s+TABLE\s+IF|GRANT|REVOKE|COMMENT)\b", re.I)
_BUILT_IN_EXCEPTIONS = {"OTHER", "STATEMENT_ERROR", "EXPRESSION_ERROR"}
_ERROR_VARIABLES = {"SQLCODE", "SQLERRM", "SQLSTATE"}


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


@dataclass(slots=True)
class Block:
    """A BEGIN … END block: its DECLAREd names, statements (text, or nested Block / Control),
    and its handler's WHEN clauses (exception names, statements)."""

    declared: set[str] = field(default_factory=set)
    exceptions: set[str] = field(default_factory=set)
    statements: list[Node] = field(default_factory=list)
    handlers: list[tuple[list[str], list[Node]]] = field(default_factory=list)


@dataclass(slots=True)
class Control:
    """IF / FOR / WHILE / LOOP / REPEAT / CASE: a statement holding statement lists."""

    head: str
    loop_variable: str | None = None
    statements: list[Node] = field(default_factory=list)


Node = str | Block | Control


def scripting_bodies(sql: str) -> list[str]:
    """The ``$$ … $$`` bodies of the EXECUTE IMMEDIATE statements in ``sql``."""
    return [m["body"] for m in _SCRIPTING_BODY.finditer(sql)]


def _strip(sql: str) -> str:
    """Comments removed and string literals emptied (a ';' or a keyword inside them is text)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        two = sql[i : i + 2]
        if two == "--":
            end = sql.find("\n", i)
            i = n if end == -1 else end
            continue
        if two == "/*":
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
            continue
        if sql[i] == "'":
            j = i + 1
            while j < n and not (sql[j] == "'" and sql[j + 1 : j + 2] != "'"):
                j += 2 if sql[j] in "\\'" else 1
            out.append("''")
            i = j + 1
            continue
        out.append(sql[i])
        i += 1
    return "".join(out)


def _pieces(body: str) -> list[str]:
    """The body split on ';' outside parentheses, each piece on one line."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in _strip(body):
        depth += ch == "("
        depth -= ch == ")"
        if ch == ";" and depth == 0:
            pieces.append(" ".join("".join(current).split()))
            current = []
        else:
            current.append(ch)
    pieces.append(" ".join("".join(current).split()))
    return [p for p in pieces if p]


def _starts(piece: str, *words: str) -> bool:
    return bool(re.match(r"(?i)" + r"\s+".join(words) + r"\b", piece))


def parse_body(body: str) -> Block:
    """The block structure of a scripting body (a DECLARE section and one BEGIN … END)."""
    root = Block()
    # Open constructs, each with the statement list its next statement goes to.
    frames: list[tuple[Block | Control, list[Node]]] = []
    pending: Block | None = None  # a block whose DECLARE section is being read
    for piece in _pieces(body):
        while piece:
            if _starts(piece, "DECLARE"):
                pending = root if not frames else Block()
                piece = piece[len("DECLARE") :].strip()
                continue
            if _starts(piece, "BEGIN") and not _starts(piece, "BEGIN", "(TRANSACTION|WORK)"):
                block = pending or (root if not frames else Block())
                if frames:
                    frames[-1][1].append(block)
                frames.append((block, block.statements))
                pending = None
                piece = piece[len("BEGIN") :].strip()
                continue
            if pending is not None:
                if name := _WORD.match(piece):
                    kind = pending.exceptions if re.search(r"(?i)\bEXCEPTION\b", piece) else None
                    (kind if kind is not None else pending.declared).add(name.group(0).upper())
                piece = ""
                continue
            if _starts(piece, "EXCEPTION"):
                piece = piece[len("EXCEPTION") :].strip()
                continue
            if when := re.match(r"(?i)WHEN\s+(.+?)\s+(?:(?:EXIT|CONTINUE)\s+)?THEN\b", piece):
                owner, _ = frames[-1]
                if not isinstance(owner, Block):
                    raise ValueError(f"a WHEN clause outside a block: {piece[:60]}")
                names = [n.strip().upper() for n in re.split(r"(?i)\s+OR\s+", when.group(1))]
                handler: list[Node] = []
                owner.handlers.append((names, handler))
                frames[-1] = (owner, handler)
                piece = piece[when.end() :].strip()
                continue
            if re.match(r"(?i)END(\s+(IF|FOR|LOOP|WHILE|REPEAT|CASE))?(\s+\w+)?$", piece):
                frames.pop()
                piece = ""
                continue
            opened = re.match(r"(?i)(IF|WHILE)\s*\(.*?\)\s*(THEN|DO)\b", piece)
            loop = re.match(r"(?i)FOR\s+(\w+)\s+IN\s+.*?\s+DO\b", piece)
            if opened or loop:
                node = (
                    Control("FOR", loop.group(1).upper())
                    if loop
                    else Control(opened.group(1).upper())  # type: ignore[union-attr]
                )
                frames[-1][1].append(node)
                frames.append((node, node.statements))
                piece = piece[(loop or opened).end() :].strip()  # type: ignore[union-attr]
                continue
            if other := re.match(r"(?i)(ELSE|ELSEIF\s*\(.*?\)\s*THEN)\b", piece):
                piece = piece[other.end() :].strip()
                continue
            if not frames:
                raise ValueError(f"a statement outside BEGIN … END: {piece[:60]}")
            frames[-1][1].append(piece)
            piece = ""
    if frames:
        raise ValueError("a BEGIN, IF or FOR without its END")
    return root


def _walk(nodes: list[Node]) -> Iterator[Node]:
    for node in nodes:
        yield node
        if isinstance(node, Block):
            yield from _walk(node.statements)
            for _, statements in node.handlers:
                yield from _walk(statements)
        elif isinstance(node, Control):
            yield from _walk(node.statements)


def _body_locals(root: Block) -> set[str]:
    """Names declared inside BEGIN … END: LET variables and FOR loop records."""
    names: set[str] = set()
    for node in _walk([root]):
        if isinstance(node, str) and (let := re.match(r"(?i)LET\s+(\w+)", node)):
            names.add(let.group(1).upper())
        elif isinstance(node, Control) and node.loop_variable:
            names.add(node.loop_variable)
    return names


def _words(node: Node) -> set[str]:
    texts = (
        [n for n in _walk([node]) if isinstance(n, str)] if not isinstance(node, str) else [node]
    )
    return {w.upper() for text in texts for w in _WORD.findall(text)}


def check_body(body: str) -> list[Violation]:
    """Every documented rule the body breaks (empty when it follows them all)."""
    root = parse_body(body)
    local_names = _body_locals(root)
    problems: list[Violation] = []
    _check_block(root, local_names, set(), set(), False, problems)
    return problems


def _check_block(
    block: Block,
    local_names: set[str],
    declared: set[str],
    exceptions: set[str],
    rollback_around: bool,
    problems: list[Violation],
) -> None:
    declared = declared | block.declared
    exceptions = exceptions | block.exceptions
    handler_rolls_back = rollback_around or any(
        isinstance(s, str) and _starts(s, "ROLLBACK") for _, ss in block.handlers for s in ss
    )
    for names, statements in block.handlers:
        for name in names:
            if name not in _BUILT_IN_EXCEPTIONS and name not in exceptions:
                problems.append(Violation("exception-declared", f"WHEN {name}: not declared"))
        _check_handler(statements, local_names - declared, problems)
    _check_statements(block.statements, handler_rolls_back, problems)
    lists = [block.statements, *(ss for _, ss in block.handlers)]
    for nested in (b for nodes in lists for b in _child_blocks(nodes)):
        _check_block(nested, local_names, declared, exceptions, handler_rolls_back, problems)


def _child_blocks(nodes: list[Node]) -> Iterator[Block]:
    """The blocks directly in ``nodes`` (inside IF / FOR too, not inside another block)."""
    for node in nodes:
        if isinstance(node, Block):
            yield node
        elif isinstance(node, Control):
            yield from _child_blocks(node.statements)


def _check_handler(
    statements: list[Node], body_locals: set[str], problems: list[Violation]
) -> None:
    other_seen = False
    for node in statements:
        words = _words(node)
        if isinstance(node, str) and _starts(node, "LET"):
            problems.append(Violation("handler-let", f"LET in an exception handler: {node[:60]}"))
        for name in sorted(words & body_locals):
            problems.append(
                Violation(
                    "handler-variable",
                    f"{name} is used in an exception handler but not declared in DECLARE",
                )
            )
        reads_error = bool(words & _ERROR_VARIABLES)
        if reads_error and other_seen:
            problems.append(
                Violation(
                    "handler-sqlerrm-first",
                    f"SQLCODE/SQLERRM/SQLSTATE read after another statement: {str(node)[:60]}",
                )
            )
        if not reads_error:
            other_seen = True


def _check_statements(
    statements: list[Node], handler_rolls_back: bool, problems: list[Violation]
) -> None:
    open_at: int | None = None
    for index, node in enumerate(statements):
        if isinstance(node, str) and _starts(node, "BEGIN", "(TRANSACTION|WORK)"):
            open_at = index
            if not handler_rolls_back:
                problems.append(
                    Violation(
                        "transaction-end",
                        "BEGIN TRANSACTION in a block whose exception handler does not ROLLBACK",
                    )
                )
            continue
        if open_at is None:
            if isinstance(node, Control):
                _check_statements(node.statements, handler_rolls_back, problems)
            continue
        if isinstance(node, str) and (_starts(node, "COMMIT") or _starts(node, "ROLLBACK")):
            open_at = None
            continue
        for text in [n for n in _walk([node]) if isinstance(n, str)]:
            if _DDL.match(text):
                problems.append(
                    Violation("transaction-ddl", f"DDL inside a transaction: {text[:60]}")
                )
    if open_at is not None:
        problems.append(
            Violation("transaction-end", "BEGIN TRANSACTION without a COMMIT or ROLLBACK after it")
        )
