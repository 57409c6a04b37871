"""The Snowflake SQL project (snowflake_sql/): ordering, rendering, splitting, checking.

The same rendering serves `inmet snowflake check`, `inmet snowflake deploy --dry-run` and the
local warehouse runtime, with the variables of snowflake_sql/schemachange-config.yml, so that
what runs on fakesnow is what schemachange would send to Snowflake.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import sqlglot
import yaml
from sqlglot.errors import ParseError

# The .env reader every command shares (process environment over .env).
from inmet_local.workspace.discovery import environment

REPO_ROOT = Path(__file__).resolve().parents[3]
SQL_ROOT = REPO_ROOT / "snowflake_sql"
CONFIG_FILE = SQL_ROOT / "schemachange-config.yml"
# The Jinja modules folder (schemachange-config.yml's `modules-folder`, relative to the folder
# schemachange runs in, the repository root): macros the scripts import, never a script itself.
MODULES_PREFIX = "modules"
TASK_BODY = "task/process_batch.sql"
BOOTSTRAP = "bootstrap/admin.sql"

_VERSIONED = re.compile(r"V(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.sql", re.I)
_REPEATABLE = re.compile(r"R__(?P<description>.+)\.sql", re.I)


class SqlProjectError(ValueError):
    """A script that cannot be rendered or parsed; the message names the file and statement."""


@dataclass(frozen=True, slots=True)
class Script:
    path: Path
    kind: str  # "versioned" | "repeatable"
    version: tuple[int, ...] | None

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class Statement:
    script: str
    index: int  # 1-based within the script
    sql: str

    @property
    def first_line(self) -> str:
        for line in self.sql.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("--"):
                return stripped
        return self.sql.strip().splitlines()[0] if self.sql.strip() else ""


# Defaults in schemachange-config.yml that only make sense locally: a deploy to a real account
# refuses them (CREATE … IF NOT EXISTS would keep a wrong ARN or bucket forever).
_PLACEHOLDER = re.compile(r"000000000000|^<|^inmet-local$")
_VAR_FROM_ENV = re.compile(
    r"^\s+(?P<var>\w+): '\{\{ env_var\(\"(?P<env>\w+)\", \"(?P<default>[^\"]*)\"\) \}\}'", re.M
)


def placeholder_settings(
    values: Mapping[str, str],
    scripts_text: str | None = None,
    config_file: Path = CONFIG_FILE,
) -> list[str]:
    """The variables that ``scripts_text`` (default: the deploy's scripts) uses and that still
    hold a local placeholder, each as 'ENV_NAME (var)'."""
    if scripts_text is None:
        scripts_text = "\n".join(
            p.read_text(encoding="utf-8")
            for p in [
                *SQL_ROOT.glob("*.sql"),
                *SQL_ROOT.glob("task/*.sql"),
                *SQL_ROOT.glob(f"{MODULES_PREFIX}/*.sql"),
            ]
        )
    problems = []
    for match in _VAR_FROM_ENV.finditer(config_file.read_text(encoding="utf-8")):
        default = match["default"]
        used = re.search(r"\{\{\s*" + match["var"] + r"\s*\}\}", scripts_text)
        if used and _PLACEHOLDER.search(default) and values.get(match["var"]) == default:
            problems.append(f"{match['env']} ({match['var']})")
    return problems


def _env_var(name: str, default: str | None = None) -> str:
    value = environment().get(name)
    if value is None or value == "":
        if default is None:
            raise SqlProjectError(f"environment variable {name} is required by {CONFIG_FILE.name}")
        return default
    return value


def load_config(config_file: Path = CONFIG_FILE) -> dict[str, Any]:
    """schemachange-config.yml rendered the way schemachange renders it (env_var())."""
    template = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False).from_string(  # noqa: S701 - SQL, not HTML
        config_file.read_text(encoding="utf-8")
    )
    rendered = template.render(env_var=_env_var)
    data = yaml.safe_load(rendered)
    if not isinstance(data, dict):
        raise SqlProjectError(f"{config_file} is not a mapping")
    return data


def settings_read(config_file: Path | None = None) -> list[str]:
    """The environment variables (or .env settings) the deploy reads: the key pair's, and every
    ``env_var("NAME", …)`` of schemachange-config.yml, in the file's order."""
    text = (config_file or CONFIG_FILE).read_text(encoding="utf-8")
    names = ["SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PRIVATE_KEY_PATH"]
    names += re.findall(r"env_var\(\s*[\"'](\w+)[\"']", text)
    return list(dict.fromkeys(names))


def variables(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    values = {k: str(v) for k, v in (load_config().get("vars") or {}).items()}
    values.update(overrides or {})
    return values


def scripts(root: Path = SQL_ROOT) -> list[Script]:
    """Versioned scripts by version, then repeatable scripts by name (schemachange's order)."""
    versioned: list[Script] = []
    repeatable: list[Script] = []
    for path in sorted(root.glob("*.sql")):
        if match := _VERSIONED.fullmatch(path.name):
            version = tuple(int(p) for p in re.split(r"[._]", match["version"]))
            versioned.append(Script(path, "versioned", version))
        elif _REPEATABLE.fullmatch(path.name):
            repeatable.append(Script(path, "repeatable", None))
    versioned.sort(key=lambda s: s.version or ())
    return versioned + sorted(repeatable, key=lambda s: s.name)


def modules_folder(config_file: Path = CONFIG_FILE) -> Path | None:
    """schemachange's `modules-folder`, resolved as schemachange resolves it (relative to its
    working directory, the repository root: `inmet snowflake deploy` runs it there)."""
    with config_file.open(encoding="utf-8") as handle:
        folder = (yaml.safe_load(handle) or {}).get("modules-folder")
    return REPO_ROOT / str(folder) if folder else None


def _loader(root: Path, modules: Path | None) -> jinja2.BaseLoader:
    """schemachange's loader (JinjaTemplateProcessor): the root folder first, then the modules
    folder under the prefix ``modules/``, so that ``{% from 'modules/measures.sql' import … %}``
    resolves to the same file in both (github.com/Snowflake-Labs/schemachange,
    schemachange/JinjaTemplateProcessor.py: ChoiceLoader([FileSystemLoader(project_root),
    PrefixLoader({"modules": FileSystemLoader(modules_folder)})]))."""
    if modules is None:
        return jinja2.FileSystemLoader(str(root))
    return jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(str(root)),
            jinja2.PrefixLoader({MODULES_PREFIX: jinja2.FileSystemLoader(str(modules))}),
        ]
    )


def _environment(root: Path) -> jinja2.Environment:
    return _cached_environment(root, modules_folder())


@functools.lru_cache(maxsize=8)
def _cached_environment(root: Path, modules: Path | None) -> jinja2.Environment:
    """One environment per folder pair, so that its templates are compiled once a process (the
    task renders its body at every run; compiling the modules anew took ~0.3 s each time).
    Jinja still reloads a template whose file changed (auto_reload, the loader's mtime check)."""
    return jinja2.Environment(
        loader=_loader(root, modules),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - SQL, not HTML
        keep_trailing_newline=True,
    )


def render(relative: str, values: Mapping[str, str], root: Path = SQL_ROOT) -> str:
    try:
        return _environment(root).get_template(relative).render(**values)
    except jinja2.TemplateError as exc:
        raise SqlProjectError(f"{relative}: cannot render: {exc}") from exc


def measures(root: Path = SQL_ROOT) -> list[dict[str, Any]]:
    """The measures as snowflake_sql/modules/measures.sql declares them (MEASURES), loaded
    through the same Jinja environment the scripts are rendered with."""
    try:
        module = _environment(root).get_template(f"{MODULES_PREFIX}/measures.sql").module
    except jinja2.TemplateError as exc:
        raise SqlProjectError(f"{MODULES_PREFIX}/measures.sql: cannot load: {exc}") from exc
    declared = getattr(module, "MEASURES", None)
    if not isinstance(declared, list):
        raise SqlProjectError(f"{MODULES_PREFIX}/measures.sql does not set MEASURES to a list")
    return [dict(m) for m in declared]


def split_statements(sql: str) -> list[str]:
    """Split on ';' outside quotes, $$ blocks and comments; drop empty statements."""
    statements: list[str] = []
    current: list[str] = []
    i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        two = sql[i : i + 2]
        if two == "--":
            end = sql.find("\n", i)
            end = n if end == -1 else end
            current.append(sql[i:end])
            i = end
            continue
        if two == "/*":
            end = sql.find("*/", i + 2)
            end = n if end == -1 else end + 2
            current.append(sql[i:end])
            i = end
            continue
        if two == "$$":
            end = sql.find("$$", i + 2)
            end = n if end == -1 else end + 2
            current.append(sql[i:end])
            i = end
            continue
        if ch == "'":
            j = i + 1
            while j < n:
                if sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == "'":
                    if sql[j + 1 : j + 2] == "'":
                        j += 2
                        continue
                    break
                j += 1
            current.append(sql[i : j + 1])
            i = j + 1
            continue
        if ch == ";":
            statements.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(sql: str) -> bool:
    without_comments = re.sub(r"--[^\n]*", "", sql)
    without_comments = re.sub(r"/\*.*?\*/", "", without_comments, flags=re.S)
    return bool(without_comments.strip())


def rendered_statements(
    values: Mapping[str, str] | None = None, root: Path = SQL_ROOT
) -> Iterator[Statement]:
    """Every statement of every script, in deployment order."""
    values = values or variables()
    for script in scripts(root):
        text = render(script.name, values, root)
        for index, sql in enumerate(split_statements(text), start=1):
            yield Statement(script.name, index, sql)


def parse_snowflake(statement: Statement) -> Any:
    """Parse with sqlglot's Snowflake dialect; raise SqlProjectError naming the statement."""
    logger = logging.getLogger("sqlglot")
    previous = logger.level
    logger.setLevel(logging.ERROR)  # "falling back to parsing as a Command" is not an error
    try:
        expressions = sqlglot.parse(statement.sql, read="snowflake")
    except ParseError as exc:
        raise SqlProjectError(
            f"{statement.script} statement {statement.index} ({statement.first_line[:60]}): {exc}"
        ) from exc
    finally:
        logger.setLevel(previous)
    parsed = [e for e in expressions if e is not None]
    if len(parsed) != 1:
        raise SqlProjectError(
            f"{statement.script} statement {statement.index}: expected one statement, "
            f"found {len(parsed)}"
        )
    return parsed[0]


# Statements the local runtime leaves to Snowflake, by leading keywords. Everything else runs
# on fakesnow unchanged.
_SNOWFLAKE_ONLY: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I | re.S), reason)
    for pattern, reason in (
        (r"^CREATE\s+(OR\s+REPLACE\s+)?ROLE\b", "roles"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?USER\b", "users"),
        (r"^GRANT\b", "grants"),
        (r"^REVOKE\b", "grants"),
        (r"^USE\s+(ROLE|WAREHOUSE|SECONDARY)\b", "roles and warehouses"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?(STORAGE|NOTIFICATION)\s+INTEGRATION\b", "integrations"),
        (r"^ALTER\s+(STORAGE\s+)?INTEGRATION\b", "integrations"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?STAGE\b.*\bSTORAGE_INTEGRATION\b", "external stages"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?PIPE\b", "pipes (emulated by the pipe poller)"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?STREAM\b", "streams (emulated by the task runner)"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?TASK\b", "tasks (emulated by the task runner)"),
        (r"^ALTER\s+(TASK|PIPE)\b", "tasks and pipes"),
        (r"^CREATE\s+(OR\s+REPLACE\s+)?FILE\s+FORMAT\b", "file formats (the poller applies it)"),
    )
)


def snowflake_only_reason(sql: str) -> str | None:
    """Why the local runtime skips this statement, or None when fakesnow runs it."""
    code = re.sub(r"^(\s*--[^\n]*\n)+", "", sql).strip()
    for pattern, reason in _SNOWFLAKE_ONLY:
        if pattern.search(code):
            return reason
    return None
