"""snowflake_sql/modules/measures.sql: the 17 measures declared once for the SQL, equal to the
Python statement of them (inmet_pipeline.columns.MEASURES); no other SQL file lists them; the
modules folder resolves as schemachange resolves it and is never taken for a migration."""

from __future__ import annotations

import hashlib
import re

import pytest
from schemachange.JinjaTemplateProcessor import JinjaTemplateProcessor
from schemachange.session.Script import get_all_scripts_recursively

from inmet_local.snowflake.sqlproject import (
    MODULES_PREFIX,
    SQL_ROOT,
    TASK_BODY,
    load_config,
    measures,
    modules_folder,
    render,
    scripts,
    variables,
)
from inmet_pipeline.columns import MEASURES

pytestmark = [pytest.mark.unit]

_DECLARATION = SQL_ROOT / MODULES_PREFIX / "measures.sql"
_QC_DECLARATION = SQL_ROOT / MODULES_PREFIX / "qc.sql"


def test_the_declared_measures_are_the_python_ones() -> None:
    """Name, order, RAW column (rule 3: columns 3-19), range (rule 5) and a type that holds it."""
    declared = measures()
    assert [m["name"] for m in declared] == [m.name for m in MEASURES]
    for position, (sql, python) in enumerate(zip(declared, MEASURES, strict=True), start=3):
        assert sql["column"] == f"c{position:02d}", sql
        assert (sql["low"], sql["high"]) == (python.low, python.high), sql["name"]
        type_ = re.fullmatch(r"NUMBER\((\d+),1\)", sql["type"])
        assert type_, sql
        integer_digits = int(type_[1]) - 1
        assert max(abs(python.low), abs(python.high)) < 10**integer_digits, sql["name"]
        assert sql["unit"], sql["name"]
        assert sql["unit"].isascii(), sql["name"]


def test_only_the_declaration_names_the_measures() -> None:
    """Every other file loops over MEASURES: the measure names appear in no other SQL file, and
    once each in the declaration. The quality-control module is the one other declaration: its
    tests name the measures they apply to (modules/qc.sql; tests/integration/test_qc.py runs
    every one of them)."""
    files = [p for p in SQL_ROOT.rglob("*") if p.is_file() and p != _QC_DECLARATION]
    assert _DECLARATION in files
    # The daily values' declaration names the measure each daily value comes from (and daily
    # values named as their measure, such as air_temp_max_c): a declaration of its own.
    files.remove(SQL_ROOT / "modules" / "daily.sql")
    for measure in MEASURES:
        for path in files:
            lines = [
                line
                for line in path.read_text(encoding="utf-8").splitlines()
                if measure.name in line  # oor_<name> and <name>_raw too
            ]
            expected = 1 if path == _DECLARATION else 0
            assert len(lines) == expected, (path.name, measure.name, lines)


def test_the_quality_control_module_names_only_measures() -> None:
    """A name in modules/qc.sql that looks like a measure (a unit suffix) is one of the 17."""
    text = _QC_DECLARATION.read_text(encoding="utf-8")
    names = set(re.findall(r"\b([a-z_]+_(?:mm|hpa|kj_m2|c|pct|deg|ms))\b", text))
    assert names, "modules/qc.sql names no measure"
    assert names <= {m.name for m in MEASURES}, names - {m.name for m in MEASURES}


def test_every_measure_reaches_every_list() -> None:
    """The loops render: the tables, the task's statements and the views name each measure."""
    values = variables()
    task = render(TASK_BODY, values)
    tables = render("V1.3.0__clean_tables.sql", values)
    views = render("R__views.sql", values)
    for m in measures():
        name = m["name"]
        assert f"  {name} {m['type']} COMMENT " in tables
        assert f"  oor_{name} NUMBER(10,0) NOT NULL DEFAULT 0," in tables
        assert f"  oor_{name} BOOLEAN NOT NULL," in tables
        assert f"TRIM(l.{m['column']}), ''), '-9999'), ',', '.'))), 28, 8) AS {name}_raw" in views
        assert f"({name}_raw IS NOT NULL AND NOT ({name}_raw BETWEEN" in views
        assert f"  {name} = s.{name}," in task
        assert f"COUNT_IF(oor_{name}) AS oor_{name}" in task
        assert f"COALESCE(w.oor_{name}, 0) AS oor_{name}" in task


def test_the_modules_folder_is_schemachanges() -> None:
    """schemachange-config.yml names the folder; the local renderer uses that very folder."""
    assert load_config()["modules-folder"] == "snowflake_sql/modules"
    assert modules_folder() == _DECLARATION.parent
    assert _DECLARATION.parent.is_dir()


def test_the_modules_folder_is_no_script() -> None:
    names = [s.name for s in scripts()]
    assert "measures.sql" not in names
    assert all(s.path.parent == SQL_ROOT for s in scripts())


def test_schemachange_finds_the_same_scripts() -> None:
    """schemachange's own discovery (every *.sql under root-folder named V…__, R__ or A__)
    finds exactly the scripts the local renderer deploys: neither the modules nor task/."""
    found = get_all_scripts_recursively(SQL_ROOT)
    assert sorted(s.file_path.resolve() for s in found.values()) == sorted(
        s.path.resolve() for s in scripts()
    )


def _words(sql: str) -> list[str]:
    return sql.split()


def test_schemachange_renders_what_the_local_renderer_renders() -> None:
    """schemachange's JinjaTemplateProcessor with the configured modules folder renders every
    script as inmet_local.snowflake.sqlproject does (apart from whitespace: it does not keep
    trailing newlines of included files, and strips the final ';')."""
    folder = modules_folder()
    assert folder is not None, "schemachange-config.yml names no modules-folder"
    processor = JinjaTemplateProcessor(project_root=SQL_ROOT, modules_folder=folder)
    values = variables()
    for name in [*(s.name for s in scripts()), TASK_BODY]:
        theirs = processor.render(name, values)
        ours = render(name, values).strip().removesuffix(";")
        assert _words(theirs) == _words(ours), name


# V1.3.0's rendering as applied (main before issue 16, with these names): a versioned script
# runs once per account, so its rendered text must not drift (snowflake_sql/README.md,
# "V1.3.0 renders its column definitions from the declaration").
_V1_3_0_SHA256 = "9b6f7317f3cba1c1d6e3842ec7c69bd0c66a935917c603e7c2d44a061c58bbb9"


def test_v1_3_0_renders_as_applied() -> None:
    """If this fails, modules/measures.sql changed a type, a range (the column comments) or
    the list of measures: accounts that applied V1.3.0 keep the old tables. Add a V script with
    the ALTER TABLE statements, then record the new digest here."""
    values = variables(
        {"database": "INMET", "clean_schema": "CLEAN", "export_role": "INMET_EXPORT"}
    )
    text = render("V1.3.0__clean_tables.sql", values)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == _V1_3_0_SHA256
