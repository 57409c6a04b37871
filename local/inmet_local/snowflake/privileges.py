"""A small model of Snowflake access control, to check offline that each role can run its SQL.

DuckDB and fakesnow check no privileges, so a grant missing from ``snowflake_sql/`` only shows on
a real account ("does not exist or not authorized"). This module replays the rendered SQL
(bootstrap as an administrator, the scripts as the schemachange role) into an :class:`Account`
that records roles, grants and owners, then asks, statement by statement, whether a role holds
every privilege a statement needs. The rules, and the Snowflake pages they rest on:

- Roles and inheritance: a role has the privileges of every role granted to it ("Overview of
  Access Control", https://docs.snowflake.com/en/user-guide/security-access-control-overview;
  "GRANT ROLE", https://docs.snowflake.com/en/sql-reference/sql/grant-role). ACCOUNTADMIN, which
  runs ``bootstrap/admin.sql``, is modelled as holding every privilege.
- Ownership: "each securable object is owned by a single role, by default the role used to
  create it"; the owner holds every privilege on it and alone may grant them (same page).
  GRANT OWNERSHIP moves it ("GRANT OWNERSHIP").
- Containers: "operating on an object in a schema requires at least one privilege on the parent
  database and at least one privilege on the parent schema" ("GRANT ROLE", access control
  requirements); this model asks for USAGE on both.
- Object privileges ("Access control privileges",
  https://docs.snowflake.com/en/user-guide/security-access-control-privileges): SELECT on tables,
  views and streams; INSERT / UPDATE / DELETE for DML (a MERGE needs those of its clauses); USAGE
  on an external stage (READ / WRITE on an internal one) to COPY from / into it; USAGE on file
  formats, integrations and warehouses; CREATE <kind> on the schema (CREATE SCHEMA on the
  database) to create objects; CREATE DATABASE, CREATE INTEGRATION, CREATE ROLE, CREATE USER,
  EXECUTE TASK and EXECUTE MANAGED TASK on the account.
- REMOVE on an external stage that uses a storage integration also needs USAGE on that
  integration ("REMOVE", usage notes, https://docs.snowflake.com/en/sql-reference/sql/remove).
- SYSTEM$SEND_SNOWFLAKE_NOTIFICATION needs USAGE on each integration it names ("Using
  SYSTEM$SEND_SNOWFLAKE_NOTIFICATION to send notifications",
  https://docs.snowflake.com/en/user-guide/notifications/snowflake-notifications).
- Views run with their owner's rights: the reader needs SELECT on the view (and USAGE on its
  database and schema), not on the base tables; the creator needs SELECT on what it reads
  ("Overview of views", https://docs.snowflake.com/en/user-guide/views-introduction).
- CREATE OR REPLACE keeps the owner but drops the grants unless COPY GRANTS is given ("CREATE
  VIEW", https://docs.snowflake.com/en/sql-reference/sql/create-view). Reading a stream needs
  SELECT on the stream and on its source table ("Introduction to streams", access control).
- Tasks run as their owner ("Introduction to tasks",
  https://docs.snowflake.com/en/user-guide/tasks-intro). A serverless task (no WAREHOUSE) needs
  EXECUTE MANAGED TASK to be created, ALTER TASK … RESUME needs EXECUTE TASK and ownership (or
  OPERATE) of the task ("CREATE TASK", "ALTER TASK", access control requirements).
- Future grants (GRANT … ON FUTURE <kinds> IN SCHEMA|DATABASE) need MANAGE GRANTS and apply to
  objects created afterwards; GRANT … ON ALL <kinds> IN … applies to those that exist ("GRANT
  <privileges> … TO ROLE", https://docs.snowflake.com/en/sql-reference/sql/grant-privilege).

Statements are read with :mod:`inmet_local.snowflake.sqlaccess` (sqlglot, Snowflake dialect, plus
the statement forms sqlglot keeps as plain commands).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from inmet_local.snowflake.sqlaccess import (
    Access,
    Effect,
    UnmodelledError,
    analyse,
    in_schema,
    qualify,
    split_name,
)

ADMIN = "ACCOUNTADMIN"
SYSTEM_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "PUBLIC")


@dataclass(frozen=True, slots=True)
class Violation:
    """A statement the role cannot run: what it needs and why it lacks it."""

    role: str
    statement: str
    object_kind: str
    object_name: str
    privilege: str
    reason: str  # "missing privilege" | "does not exist" | "not modelled"

    def __str__(self) -> str:
        head = " ".join(self.statement.split())[:160]
        if self.reason == "does not exist":
            what = f"{self.object_kind} {self.object_name} does not exist"
        elif self.reason == "not modelled":
            what = f"statement not modelled by inmet_local.snowflake.privileges: {self.object_name}"
        else:
            what = f"needs {self.privilege} on {self.object_kind} {self.object_name}"
        return f"role {self.role}: {what}\n    in: {head}"


@dataclass(slots=True)
class Account:
    """Roles, grants, owners and objects, as the replayed SQL leaves them."""

    roles: set[str] = field(default_factory=lambda: set(SYSTEM_ROLES))
    children: dict[str, set[str]] = field(default_factory=dict)  # role -> roles granted to it
    account_privileges: dict[str, set[str]] = field(default_factory=dict)
    objects: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # -> attributes
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    grants: dict[tuple[str, str], dict[str, set[str]]] = field(default_factory=dict)
    # (object kind, container, grantee, privileges) of GRANT … ON FUTURE <kinds> IN <container>
    future: list[tuple[str, str, str, frozenset[str]]] = field(default_factory=list)

    # -- the model -------------------------------------------------------------------------
    def effective_roles(self, role: str) -> set[str]:
        """The role and every role granted to it, transitively (role hierarchy)."""
        seen, todo = set(), [role]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self.children.get(current, ()))
        return seen

    def exists(self, kind: str, name: str) -> bool:
        return (kind, name) in self.objects

    def has(self, role: str, privilege: str, kind: str, name: str) -> bool:
        roles = self.effective_roles(role)
        if ADMIN in roles:
            return True
        if kind == "ACCOUNT":
            return any(privilege in self.account_privileges.get(r, set()) for r in roles)
        if self.owners.get((kind, name)) in roles:
            return True
        held = self.grants.get((kind, name), {})
        if kind in ("DATABASE", "SCHEMA") and privilege == "USAGE":
            # "Operating on an object in a schema requires at least one privilege on the parent
            # database and at least one privilege on the parent schema" ("GRANT ROLE").
            return any(held.get(r) for r in roles)
        return any(privilege in held.get(r, set()) or "ALL" in held.get(r, set()) for r in roles)

    # -- replaying statements ----------------------------------------------------------------
    def check(self, role: str, access: Access, statement: str) -> Violation | None:
        if access.kind not in ("ACCOUNT", "ROLE") and not self.exists(access.kind, access.name):
            return Violation(
                role, statement, access.kind, access.name, access.privilege, "does not exist"
            )
        if access.kind == "STAGE" and access.privilege in ("READ", "WRITE"):
            external = self.objects[("STAGE", access.name)].get("external") == "1"
            privilege = "USAGE" if external else access.privilege
            access = Access(privilege, "STAGE", access.name)
        if access.kind == "STAGE" and access.privilege == "INTEGRATION USAGE":
            integration = self.objects[("STAGE", access.name)].get("integration")
            if not integration:
                return None
            access = Access("USAGE", "INTEGRATION", integration)
            if not self.exists("INTEGRATION", integration):
                return Violation(
                    role, statement, "INTEGRATION", integration, "USAGE", "does not exist"
                )
        if access.kind == "ROLE":
            if access.name not in self.roles:
                return Violation(role, statement, "ROLE", access.name, "", "does not exist")
            if self.has(role, "MANAGE GRANTS", "ACCOUNT", "") or self.owners.get(
                ("ROLE", access.name)
            ) in self.effective_roles(role):
                return None
            return Violation(role, statement, "ROLE", access.name, "OWNERSHIP", "missing privilege")
        if self.has(role, access.privilege, access.kind, access.name):
            return None
        return Violation(
            role, statement, access.kind, access.name, access.privilege, "missing privilege"
        )

    def run(self, role: str, sql: str, defaults: tuple[str, str] | None = None) -> list[Violation]:
        """Check one statement as ``role``, then apply what it does (create, grant, …)."""
        try:
            accesses, effects = analyse(sql, defaults)
        except UnmodelledError as exc:
            return [Violation(role, sql, "", str(exc), "", "not modelled")]
        expanded = [self._expand(a) for a in accesses]
        for access in list(expanded):  # reading a stream reads its source table too
            if access.kind == "STREAM" and self.exists("STREAM", access.name):
                source = self.objects[("STREAM", access.name)].get("source", "")
                expanded += in_schema("SELECT", "TABLE", source) if source else []
        found = [v for a in expanded if (v := self.check(role, a, sql))]
        for effect in effects:
            self.apply(role, effect)
        return found

    def run_all(
        self, role: str, statements: Iterable[str], defaults: tuple[str, str] | None = None
    ) -> list[Violation]:
        return [v for sql in statements for v in self.run(role, sql, defaults)]

    def _expand(self, access: Access) -> Access:
        """A table-or-view read resolves to the kind the object really has."""
        if access.kind == "RELATION":
            for kind in ("TABLE", "VIEW", "STREAM"):
                if self.exists(kind, access.name):
                    return Access(access.privilege, kind, access.name)
            return Access(access.privilege, "TABLE", access.name)
        return access

    def apply(self, role: str, effect: Effect) -> None:
        key = (effect.kind, effect.name)
        if effect.action == "create":
            if key in self.objects and effect.if_not_exists:
                return
            replaced_owner = self.owners.get(key) if key in self.objects else None
            self.objects[key] = dict(effect.attributes)
            if replaced_owner and self.objects[key].get("drop_grants"):
                self.grants.pop(key, None)
            if effect.kind == "ROLE":
                self.roles.add(effect.name)
            self.owners[key] = replaced_owner or role
            if not replaced_owner:
                self._apply_future(effect.kind, effect.name)
        elif effect.action == "grant_role":
            self.children.setdefault(effect.grantee, set()).add(effect.name)
        elif effect.action == "grant_account":
            self.account_privileges.setdefault(effect.grantee, set()).update(effect.privileges)
        elif effect.action == "grant":
            self.grants.setdefault(key, {}).setdefault(effect.grantee, set()).update(
                effect.privileges
            )
        elif effect.action == "grant_ownership":
            self.owners[key] = effect.grantee
        elif effect.action == "grant_all_in":
            for kind, name in list(self.objects):
                if kind == effect.kind and _inside(name, effect.name):
                    self.grants.setdefault((kind, name), {}).setdefault(
                        effect.grantee, set()
                    ).update(effect.privileges)
        elif effect.action == "grant_future":
            self.future.append((effect.kind, effect.name, effect.grantee, effect.privileges))

    def _apply_future(self, kind: str, name: str) -> None:
        # Schema-level future grants take precedence over database-level ones ("GRANT
        # <privileges>", future grants): when a schema has some for this kind, only those apply.
        schema = name.rsplit(".", 1)[0]
        rules = [f for f in self.future if f[0] == kind and _inside(name, f[1])]
        schema_rules = [f for f in rules if f[1] == schema]
        for _, _, grantee, privileges in schema_rules or rules:
            self.grants.setdefault((kind, name), {}).setdefault(grantee, set()).update(privileges)


def _inside(name: str, container: str) -> bool:
    return name.startswith(container + ".")


# -- the runs of this project: deploy (bootstrap, schemachange, scripts) and the task's body ----
def scripting_statements(body: str) -> list[str]:
    """The SQL statements of a task body: the body itself, or the statements of its Snowflake
    Scripting block (EXECUTE IMMEDIATE $$ … $$) without BEGIN / END / FOR … DO / LET scaffolding
    ("Snowflake Scripting developer guide": a cursor's query runs when the cursor opens)."""
    from inmet_local.snowflake.sqlproject import split_statements

    code_only = re.sub(r"^(\s*--[^\n]*\n)+", "", body)  # leading comment lines
    block = re.fullmatch(r"\s*EXECUTE\s+IMMEDIATE\s+\$\$(.*)\$\$\s*;?\s*", code_only, re.S | re.I)
    if block is None:
        return [body.strip().rstrip(";")]
    statements: list[str] = []
    for raw in split_statements(block[1]):
        code = re.sub(r"--[^\n]*", "", raw).strip()
        previous = None
        while code != previous:  # peel control-flow keywords off the front
            previous = code
            code = re.sub(r"^(?:BEGIN|DECLARE)\b(?!\s+TRANSACTION)\s*", "", code, flags=re.I)
            code = re.sub(r"^FOR\s+\w+\s+IN\s+\w+\s+DO\b\s*", "", code, flags=re.I)
            # An exception handler's head and an IF's condition.
            code = re.sub(r"^EXCEPTION\s+WHEN\s+\w+\s+THEN\b\s*", "", code, flags=re.I)
            code = re.sub(r"^IF\s*\(.*?\)\s*THEN\b\s*", "", code, flags=re.I | re.S)
            code = re.sub(r"^END(?:\s+(?:FOR|LOOP|IF|WHILE))?\s*$", "", code, flags=re.I)
        if query := re.match(
            r"(?:LET\s+)?\w+\s+(?:CURSOR\s+FOR|RESULTSET\s*:=)\s*(.*)$", code, re.S | re.I
        ):
            code = query[1].strip().strip("()")
        elif re.match(
            r"(?:LET\s+\w+|RETURN|RAISE)\b|\w+\s*:=|\w+\s+\w+\s+DEFAULT\b|\w+\s+EXCEPTION\b",
            code,
            re.I,
        ):
            if "SELECT" in code.upper():
                raise UnmodelledError(f"a query inside a scripting expression: {code[:80]!r}")
            continue
        if code:
            statements.append(code)
    return statements


def change_history_statements(table: str) -> list[str]:
    """What schemachange runs on its change-history table (create-change-history-table: true).
    It creates the schema and the table, never the database (schemachange's README: "the
    database must already exist")."""
    db, schema, _ = table.split(".")
    # Names from schemachange-config.yml, never user input.
    return [
        f"CREATE SCHEMA IF NOT EXISTS {db}.{schema}",
        f"CREATE TABLE IF NOT EXISTS {table} (VERSION VARCHAR, SCRIPT VARCHAR)",
        f"SELECT VERSION, SCRIPT FROM {table}",  # noqa: S608
        f"INSERT INTO {table} (VERSION, SCRIPT) VALUES ('1', 'x')",  # noqa: S608
    ]


@dataclass(slots=True)
class Deployment:
    """The account after bootstrap and deploy, the role schemachange runs as, what failed."""

    account: Account
    deploy_role: str
    warehouse: str
    violations: list[Violation]

    def task_runs(self) -> dict[str, tuple[str, list[str]]]:
        """Each task: its owner (the role it runs as) and the statements of one run."""
        runs = {}
        for (kind, name), attributes in self.account.objects.items():
            if kind != "TASK":
                continue
            statements = scripting_statements(attributes["body"])
            if when := re.search(r"\bWHEN\s+(.*)$", attributes["options"], re.S | re.I):
                statements.insert(0, f"SELECT {when[1].strip()}")
            runs[name] = (self.account.owners[(kind, name)], statements)
        return runs


def deploy() -> Deployment:
    """Replay bootstrap/admin.sql as ACCOUNTADMIN, then schemachange as its configured role:
    the change-history table, then every rendered script in deployment order."""
    from inmet_local.snowflake.sqlproject import (
        BOOTSTRAP,
        load_config,
        render,
        rendered_statements,
        split_statements,
        variables,
    )

    config, values = load_config(), variables()
    account = Account()
    # The warehouse is the account's, not the project's: it exists before the bootstrap.
    warehouse = split_name(str(config["snowflake-warehouse"]))[0]
    account.objects[("WAREHOUSE", warehouse)] = {}
    account.owners[("WAREHOUSE", warehouse)] = "SYSADMIN"
    bootstrap = [
        code
        for statement in split_statements(render(BOOTSTRAP, values))
        for code in scripting_statements(statement)
    ]
    violations = account.run_all(ADMIN, bootstrap)
    role = split_name(str(config["snowflake-role"]))[0]
    session = account.check(
        role, Access("USAGE", "WAREHOUSE", warehouse), "(session) USE WAREHOUSE"
    )
    violations += [session] if session else []
    if config.get("create-change-history-table"):
        table = qualify(str(config["change-history-table"]), None)
        violations += account.run_all(role, change_history_statements(table))
    for statement in rendered_statements(values):
        violations += account.run(role, statement.sql)
    return Deployment(account, role, warehouse, violations)
