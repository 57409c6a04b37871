"""What one Snowflake statement touches, and how: the input of
:mod:`inmet_local.snowflake.privileges`.

:func:`analyse` returns the privileges a statement needs (:class:`Access`: read a table or view,
write with INSERT / UPDATE / DELETE, write to or remove from a stage, use an integration, create
an object in a schema, …) and what it changes in the account (:class:`Effect`: an object created,
a privilege granted). Queries and DML are read with sqlglot's Snowflake dialect (tables in FROM,
JOIN and sub-queries, CTE names excluded; MERGE clauses; COPY INTO @stage/… FROM (SELECT …) and
COPY INTO <table> FROM @stage). The statements sqlglot keeps as plain commands (GRANT ROLE,
future grants, REMOVE, CALL, CREATE PIPE / STREAM / TASK / NOTIFICATION INTEGRATION, ALTER TASK)
are read with anchored patterns. A statement of any other form raises :class:`UnmodelledError`, so
that the check fails loudly instead of passing a statement it did not understand.

Why one module of ~400 lines (issue 16): it is one function, :func:`analyse`, and the readers it
dispatches to; each reader is a branch of the same decision (which statement forms are modelled,
and which raise UnmodelledError), and they share the name rules (``qualify``, ``stage_name``, the
``_IDENT`` patterns). Split by reader, a newcomer would have to read every part to learn what is
modelled; kept whole, the dispatch at the bottom lists it in one place.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

_IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_NAME = rf"{_IDENT}(?:\.{_IDENT}){{0,2}}"
# A stage reference, possibly quoted as a whole: @db.schema.stage/path, '@db.schema.stage/p=1/…'
STAGE_REF = re.compile(rf"'?@(?P<name>~|%{_IDENT}|{_NAME})(?P<path>/[^'\s)]*)?'?")
_KINDS = (
    r"DATABASE|SCHEMA|TABLE|VIEW|STAGE|INTEGRATION|WAREHOUSE|FILE FORMAT|STREAM|PIPE|TASK"
    r"|PROCEDURE|FUNCTION"
)
_PLURAL = {
    "TABLES": "TABLE",
    "VIEWS": "VIEW",
    "STAGES": "STAGE",
    "STREAMS": "STREAM",
    "PIPES": "PIPE",
    "TASKS": "TASK",
    "FILE FORMATS": "FILE FORMAT",
    "SCHEMAS": "SCHEMA",
    "PROCEDURES": "PROCEDURE",
    "FUNCTIONS": "FUNCTION",
}
_CREATE = r"CREATE\s+(?:OR\s+REPLACE\s+)?"
_IF_NOT_EXISTS = r"(?P<ine>IF\s+NOT\s+EXISTS\s+)?"
_NO_ACCESS = re.compile(
    r"(BEGIN(\s+TRANSACTION)?|START\s+TRANSACTION|COMMIT|ROLLBACK|USE\s+\w+.*)$", re.I | re.S
)


class UnmodelledError(ValueError):
    """A statement form this module does not know; the message names it."""


@dataclass(frozen=True, slots=True)
class Access:
    """A privilege a statement needs on one object (kind ACCOUNT for global privileges; kind
    RELATION for a table, view or stream read, resolved by the account model)."""

    privilege: str
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class Effect:
    # create | grant | grant_account | grant_role | grant_ownership | grant_all_in | grant_future
    action: str
    kind: str = ""
    name: str = ""
    grantee: str = ""
    privileges: frozenset[str] = frozenset()
    attributes: tuple[tuple[str, str], ...] = ()
    if_not_exists: bool = False


@dataclass(slots=True)
class _Result:
    accesses: list[Access] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


def split_name(text: str) -> list[str]:
    parts = re.findall(r'"[^"]+"|[^.]+', text.strip())
    return [p[1:-1] if p.startswith('"') else p.upper() for p in parts]


def qualify(text: str, defaults: tuple[str, str] | None, kind: str = "TABLE") -> str:
    """Fully qualified upper-case name; unqualified parts come from the session (db, schema)."""
    parts = split_name(text)
    want = {"DATABASE": 1, "SCHEMA": 2}.get(kind, 3)
    if kind in ("INTEGRATION", "WAREHOUSE", "ROLE", "USER"):
        want = 1
    if len(parts) < want:
        if defaults is None:
            raise UnmodelledError(f"unqualified name {text!r} and no session database/schema")
        parts = [*list(defaults)[: want - len(parts)], *parts]
    return ".".join(parts)


def in_schema(privilege: str, kind: str, name: str) -> list[Access]:
    """USAGE on the database and schema, then ``privilege`` on the object."""
    db, schema = name.split(".")[:2]
    return [
        Access("USAGE", "DATABASE", db),
        Access("USAGE", "SCHEMA", f"{db}.{schema}"),
        Access(privilege, kind, name),
    ]


def stage_name(ref: str, defaults: tuple[str, str] | None) -> str:
    match = STAGE_REF.match(ref.strip())
    if match is None:
        raise UnmodelledError(f"not a stage reference: {ref!r}")
    if match["name"].startswith(("~", "%")):
        raise UnmodelledError(f"user and table stages are not modelled: {ref!r}")
    return qualify(match["name"], defaults, "STAGE")


def _table_name(table: exp.Table, defaults: tuple[str, str] | None) -> str:
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    return qualify(".".join(f'"{p}"' if not p.isupper() else p for p in parts), defaults)


def _reads(node: Any, defaults: tuple[str, str] | None, skip: set[int]) -> list[Access]:
    """SELECT on every table or view the expression reads (CTEs excluded), READ on stages."""
    ctes = {cte.alias_or_name.upper() for cte in node.find_all(exp.CTE)}
    found: list[Access] = []
    for table in node.find_all(exp.Table):
        if id(table) in skip:
            continue
        raw = table.this.name if isinstance(table.this, exp.Literal | exp.Var) else ""
        if raw.lstrip("'").startswith("@"):
            found += in_schema("READ", "STAGE", stage_name(raw, defaults))
        elif not table.db and table.name.upper() in ctes:
            continue
        elif table.name:
            found += in_schema("SELECT", "RELATION", _table_name(table, defaults))
    for rows in node.find_all(exp.TableFromRows):  # FROM TABLE(<function>(…))
        text = rows.sql("snowflake")
        if m := re.match(r"TABLE\s*\(\s*(\w+)\.INFORMATION_SCHEMA\.", text, re.I):
            found.append(Access("USAGE", "DATABASE", m[1].upper()))  # "Information Schema"
        else:
            raise UnmodelledError(f"table function not modelled: {text[:80]!r}")
    for call in node.find_all(exp.Anonymous):
        if call.name.upper() == "SYSTEM$STREAM_HAS_DATA" and call.expressions:
            found += in_schema("SELECT", "STREAM", qualify(call.expressions[0].name, defaults))
    return found


def _target(node: Any) -> exp.Table:
    target = node.this
    while isinstance(target, exp.Schema):
        target = target.this
    if not isinstance(target, exp.Table):
        raise UnmodelledError(f"no target table in {node.sql(dialect='snowflake')[:80]!r}")
    return target


def _parsed(sql: str, defaults: tuple[str, str] | None, out: _Result) -> None:
    logger = logging.getLogger("sqlglot")
    previous, logger.level = logger.level, logging.ERROR
    try:
        node: Any = sqlglot.parse_one(sql, read="snowflake")
    finally:
        logger.setLevel(previous)
    dml = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE"}
    if isinstance(node, exp.Query):
        out.accesses += _reads(node, defaults, set())
    elif type(node) in dml:
        target = _target(node)
        out.accesses += in_schema(dml[type(node)], "TABLE", _table_name(target, defaults))
        out.accesses += _reads(node, defaults, {id(target)})
    elif isinstance(node, exp.Merge):
        target = _target(node)
        name = _table_name(target, defaults)
        for when in node.find_all(exp.When):
            then = when.args.get("then")
            action = then.name.upper() if isinstance(then, exp.Var) else type(then).__name__.upper()
            out.accesses += in_schema(action, "TABLE", name)
        out.accesses += _reads(node, defaults, {id(target)})
    elif isinstance(node, exp.Copy):
        _copy(node, sql, defaults, out)
    elif isinstance(node, exp.Create) and not isinstance(node.this, exp.Identifier | exp.Var):
        _create(node, defaults, out)
    else:
        raise UnmodelledError(f"statement form not modelled: {sql.split(chr(10))[0][:80]!r}")


def _copy(node: exp.Copy, sql: str, defaults: tuple[str, str] | None, out: _Result) -> None:
    target = node.this
    raw = target.this.name if isinstance(target, exp.Table) else ""
    if raw.lstrip("'").startswith("@"):  # COPY INTO @stage/… (unload)
        name = stage_name(raw, defaults)
        out.accesses += in_schema("WRITE", "STAGE", name)
        out.accesses += _reads(node, defaults, {id(target)})
        return
    table = _target(node)
    out.accesses += in_schema("INSERT", "TABLE", _table_name(table, defaults))
    for ref in STAGE_REF.finditer(sql):
        out.accesses += in_schema("READ", "STAGE", stage_name(ref.group(0), defaults))
    for fmt in re.finditer(r"FORMAT_NAME\s*=\s*'?(?P<n>[\w$.\"]+)'?", sql, re.I):
        out.accesses += in_schema("USAGE", "FILE FORMAT", qualify(fmt["n"], defaults))


def _create(node: exp.Create, defaults: tuple[str, str] | None, out: _Result) -> None:
    kind = str(node.args.get("kind")).upper()
    table = _target(node)
    ine = bool(node.args.get("exists"))
    if kind == "DATABASE":
        out.accesses.append(Access("CREATE DATABASE", "ACCOUNT", ""))
        out.effects.append(Effect("create", kind, table.name.upper(), if_not_exists=ine))
        return
    if kind == "SCHEMA":
        name = qualify(f"{table.catalog}.{table.db}" if table.catalog else table.db, defaults, kind)
        out.accesses.append(Access("CREATE SCHEMA", "DATABASE", name.split(".")[0]))
        out.effects.append(Effect("create", kind, name, if_not_exists=ine))
        return
    if kind not in ("TABLE", "VIEW", "STAGE", "FILE FORMAT"):
        raise UnmodelledError(f"CREATE {kind} not modelled")
    name = _table_name(table, defaults)
    attributes: dict[str, str] = {}
    out.accesses += _schema_object(kind, name, defaults)[1]
    if kind == "VIEW":  # the creator (the owner, whose rights the view runs with) reads these
        query = node.expression
        if query is not None:
            out.accesses += _reads(query, defaults, set())
    for prop in node.find_all(exp.Property):
        key = prop.name.upper()
        if key == "URL":
            attributes["external"] = "1"
        elif key == "STORAGE_INTEGRATION":
            integration = prop.args["value"].name.upper()
            attributes["integration"] = integration
            out.accesses.append(Access("USAGE", "INTEGRATION", integration))
    if node.args.get("replace") and not re.search(
        r"\bCOPY\s+GRANTS\b", node.sql("snowflake"), re.I
    ):
        attributes["drop_grants"] = "1"  # CREATE OR REPLACE without COPY GRANTS drops them
    out.effects.append(
        Effect("create", kind, name, attributes=tuple(attributes.items()), if_not_exists=ine)
    )


def _grant(sql: str, defaults: tuple[str, str] | None, out: _Result) -> None:
    text = " ".join(sql.split())
    if m := re.fullmatch(rf"GRANT ROLE ({_IDENT}) TO (ROLE|USER) ({_IDENT})", text, re.I):
        role, to_kind, grantee = split_name(m[1])[0], m[2].upper(), split_name(m[3])[0]
        out.accesses.append(Access("OWNERSHIP", "ROLE", role))
        if to_kind == "ROLE":
            out.effects.append(Effect("grant_role", "ROLE", role, grantee=grantee))
        return
    m = re.fullmatch(
        rf"GRANT (?P<privs>.+?) ON (?P<on>ACCOUNT|(?:FUTURE|ALL) (?P<plural>[A-Z ]+?) IN "
        rf"(?P<ckind>SCHEMA|DATABASE) (?P<container>{_NAME})|(?P<kind>{_KINDS}) (?P<name>{_NAME}))"
        rf" TO (?:ROLE )?(?P<grantee>{_IDENT})(?: (?:WITH GRANT OPTION|COPY CURRENT GRANTS|"
        r"REVOKE CURRENT GRANTS))?",
        text,
        re.I,
    )
    if m is None:
        raise UnmodelledError(f"GRANT form not modelled: {text[:80]!r}")
    privileges = frozenset(
        p.strip().upper().removesuffix(" PRIVILEGES") for p in m["privs"].split(",")
    )
    grantee = split_name(m["grantee"])[0]
    if m["on"].upper() == "ACCOUNT":
        out.accesses.append(Access("MANAGE GRANTS", "ACCOUNT", ""))
        out.effects.append(Effect("grant_account", grantee=grantee, privileges=privileges))
    elif m["plural"]:
        kind = _PLURAL.get(m["plural"].upper())
        if kind is None:
            raise UnmodelledError(f"GRANT on {m['plural']} not modelled")
        container = qualify(m["container"], defaults, m["ckind"].upper())
        future = m["on"].upper().startswith("FUTURE")
        # Future grants need MANAGE GRANTS; ALL … IN needs ownership (modelled: of the container).
        out.accesses.append(
            Access("MANAGE GRANTS", "ACCOUNT", "")
            if future
            else Access("OWNERSHIP", m["ckind"].upper(), container)
        )
        action = "grant_future" if future else "grant_all_in"
        out.effects.append(Effect(action, kind, container, grantee, privileges))
    else:
        kind = m["kind"].upper()
        name = qualify(m["name"], defaults, kind)
        out.accesses.append(Access("OWNERSHIP", kind, name))  # the owner grants (or MANAGE GRANTS)
        action = "grant_ownership" if privileges == {"OWNERSHIP"} else "grant"
        out.effects.append(Effect(action, kind, name, grantee, privileges))


def _schema_object(
    kind: str, name: str, defaults: tuple[str, str] | None
) -> tuple[str, list[Access]]:
    fq = qualify(name, defaults)
    db, schema = fq.split(".")[:2]
    usage = [Access("USAGE", "DATABASE", db), Access(f"CREATE {kind}", "SCHEMA", f"{db}.{schema}")]
    return fq, usage


def _mask_literals(code: str) -> str:
    """``code`` with the inside of '…' strings and $$…$$ blocks blanked (same length)."""
    return re.sub(r"\$\$.*?\$\$|'(?:[^'\\]|\\.|'')*'", lambda m: "x" * len(m[0]), code, flags=re.S)


def _integrations(text: str, out: _Result) -> None:
    for m in re.finditer(r"(?:ERROR|SUCCESS)_INTEGRATION\s*=\s*(" + _IDENT + ")", text, re.I):
        out.accesses.append(Access("USAGE", "INTEGRATION", split_name(m[1])[0]))


def analyse(sql: str, defaults: tuple[str, str] | None = None) -> tuple[list[Access], list[Effect]]:
    """The privileges ``sql`` needs and the changes it makes (see the module docstring)."""
    code = re.sub(r"--[^\n]*", "", sql).strip().rstrip(";").strip()
    text = " ".join(code.split())
    out = _Result()
    head = text.upper()
    if not text or _NO_ACCESS.fullmatch(text):
        pass
    elif head.startswith("GRANT "):
        _grant(code, defaults, out)
    elif m := re.match(rf"{_CREATE}(ROLE|USER) {_IF_NOT_EXISTS}({_IDENT})", text, re.I):
        kind = m[1].upper()
        out.accesses.append(Access(f"CREATE {kind}", "ACCOUNT", ""))
        out.effects.append(
            Effect("create", kind, split_name(m[3])[0], if_not_exists=bool(m["ine"]))
        )
    elif m := re.match(rf"{_CREATE}(?:\w+ )?INTEGRATION {_IF_NOT_EXISTS}({_IDENT})", text, re.I):
        out.accesses.append(Access("CREATE INTEGRATION", "ACCOUNT", ""))
        out.effects.append(
            Effect("create", "INTEGRATION", split_name(m[2])[0], if_not_exists=bool(m["ine"]))
        )
    elif m := re.match(rf"{_CREATE}PIPE {_IF_NOT_EXISTS}({_NAME}) (.*?) AS (COPY .*)$", text, re.I):
        name, out.accesses = _schema_object("PIPE", m[2], defaults)
        _integrations(m[3], out)
        accesses, _ = analyse(m[4], defaults)  # the pipe's COPY runs with its owner's rights
        out.accesses += accesses
        out.effects.append(Effect("create", "PIPE", name, if_not_exists=bool(m["ine"])))
    elif m := re.match(
        rf"{_CREATE}STREAM {_IF_NOT_EXISTS}({_NAME}) ON TABLE ({_NAME})", text, re.I
    ):
        name, out.accesses = _schema_object("STREAM", m[2], defaults)
        source = qualify(m[3], defaults)
        out.accesses += in_schema("SELECT", "TABLE", source)
        out.effects.append(
            Effect(
                "create",
                "STREAM",
                name,
                attributes=(("source", source),),
                if_not_exists=bool(m["ine"]),
            )
        )
    elif m := re.match(rf"{_CREATE}TASK {_IF_NOT_EXISTS}({_NAME}) ", text, re.I):
        name, out.accesses = _schema_object("TASK", m[2], defaults)
        # The body follows the first AS outside string literals and $$ blocks.
        start = re.match(rf"\s*{_CREATE}TASK\s+(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}", code, re.I)
        assert start is not None
        masked = _mask_literals(code)
        body_at = re.search(r"\bAS\s+", masked[start.end() :], re.I)
        if body_at is None:
            raise UnmodelledError(f"CREATE TASK {name} without AS <body>")
        options = code[start.end() : start.end() + body_at.start()]
        body = code[start.end() + body_at.end() :]
        if wh := re.search(rf"\bWAREHOUSE\s*=\s*({_IDENT})", options, re.I):
            out.accesses.append(Access("USAGE", "WAREHOUSE", split_name(wh[1])[0]))
        else:  # serverless
            out.accesses.append(Access("EXECUTE MANAGED TASK", "ACCOUNT", ""))
        _integrations(options, out)
        out.effects.append(
            Effect(
                "create",
                "TASK",
                name,
                attributes=(("body", body), ("options", options)),
                if_not_exists=bool(m["ine"]),
            )
        )
    elif m := re.fullmatch(rf"ALTER TASK (?:IF EXISTS )?({_NAME}) (RESUME|SUSPEND)", text, re.I):
        name = qualify(m[1], defaults)
        if m[2].upper() == "RESUME":
            out.accesses.append(Access("EXECUTE TASK", "ACCOUNT", ""))
        out.accesses += in_schema("OPERATE", "TASK", name)
    elif m := re.match(
        rf"ALTER (?:STORAGE )?INTEGRATION (?:IF EXISTS )?({_IDENT}) SET ", text, re.I
    ):
        # Only the integration's owner alters it ("ALTER STORAGE INTEGRATION", access control
        # requirements: OWNERSHIP;
        # docs.snowflake.com/en/sql-reference/sql/alter-storage-integration).
        out.accesses.append(Access("OWNERSHIP", "INTEGRATION", split_name(m[1])[0]))
    elif m := re.fullmatch(rf"EXECUTE TASK ({_NAME})", text, re.I):
        out.accesses.append(Access("EXECUTE TASK", "ACCOUNT", ""))
        out.accesses += in_schema("OPERATE", "TASK", qualify(m[1], defaults))
    elif m := re.match(
        rf"ALTER (TABLE|VIEW|STAGE|PIPE|STREAM|TASK|FILE FORMAT) ({_NAME}) ", text, re.I
    ):
        out.accesses += in_schema("OWNERSHIP", m[1].upper(), qualify(m[2], defaults))
    elif m := re.match(
        rf"{_CREATE}(?:SECURE )?(PROCEDURE|FUNCTION) {_IF_NOT_EXISTS}({_NAME})\s*\(", text, re.I
    ):
        kind = m[1].upper()
        name, out.accesses = _schema_object(kind, m[3], defaults)
        # Its body is not analysed: a procedure EXECUTE AS OWNER runs with its owner's rights.
        out.effects.append(Effect("create", kind, name, if_not_exists=bool(m["ine"])))
    elif m := re.fullmatch(r"(?:REMOVE|RM) ('?@[^ ]+'?)(?: PATTERN = '.*')?", text, re.I):
        name = stage_name(m[1], defaults)
        out.accesses += in_schema("WRITE", "STAGE", name)
        out.accesses.append(Access("INTEGRATION USAGE", "STAGE", name))  # REMOVE usage notes
    elif m := re.fullmatch(r"CALL ([\w$.]+)\s*\((.*)\)", text, re.I | re.S):
        procedure = m[1].upper()
        if procedure in ("SYSTEM$SEND_SNOWFLAKE_NOTIFICATION", "SYSTEM$SEND_EMAIL"):
            for integration in re.findall(r"INTEGRATION(?:_CONFIG)?\(\s*'([^']+)'", m[2], re.I):
                out.accesses.append(Access("USAGE", "INTEGRATION", integration.upper()))
        elif not procedure.startswith("SYSTEM$"):
            out.accesses += in_schema("USAGE", "PROCEDURE", qualify(procedure, defaults))
    else:
        _parsed(code, defaults, out)
    return out.accesses, out.effects
