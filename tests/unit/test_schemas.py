"""The Glue catalog's tables (Terraform) hold the columns the pipeline writes (Python schemas)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from segmentation.contract import STORED_COLUMNS, event_arrow_schema
from segmentation.lake import (
    CLEAN_FLAGS,
    CLEAN_ORIGINALS,
    CURATED_EVENT_SCHEMA,
    LAKE_EVENT_SCHEMA,
    LAKE_NAMES,
)
from segmentation.pipeline.tables import GLUE_TABLES

LAKE_MODULE = Path(__file__).resolve().parents[2] / "terraform" / "modules" / "lake"
COLUMN = re.compile(r'\{\s*name\s*=\s*"([^"]+)"\s*,\s*type\s*=\s*"([^"]+)"\s*\}')
CLOSE = {"[": "]", "{": "}", "(": ")"}

Columns = list[tuple[str, str]]


def _balanced(text: str, start: int) -> str:
    """The bracketed expression opening at ``text[start]`` (its brackets included)."""
    stack: list[str] = []
    for i in range(start, len(text)):
        ch = text[i]
        if ch in CLOSE:
            stack.append(CLOSE[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
            if not stack:
                return text[start : i + 1]
    raise ValueError(f"unbalanced expression at {text[start : start + 40]!r}")


def _top_level_args(call: str) -> list[str]:
    """The comma-separated arguments of ``f(a, [b, c], d)``."""
    inner = call[call.index("(") + 1 : -1]
    args, depth, current = [], 0, ""
    for ch in inner:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    return [a for a in [*args, current.strip()] if a]


class Catalog:
    """The lake module's catalog tables, read from its HCL (python-hcl2 is not a dependency):
    column lists are literal ``{ name = ..., type = ... }`` objects, referenced as ``local.X`` or
    ``var.X`` (a variable's default) and joined with ``concat``."""

    def __init__(self, catalog_tf: str, variables_tf: str) -> None:
        self.text = catalog_tf
        self.variables = variables_tf

    def _local(self, name: str) -> str:
        match = re.search(rf"^\s*{name}\s*=\s*([\[{{])", self.text, re.M)
        assert match, f"local {name} not found in catalog.tf"
        return _balanced(self.text, match.start(1))

    def _var_default(self, name: str) -> str:
        block = re.search(rf'variable\s+"{name}"\s*\{{', self.variables)
        assert block, f"variable {name} not found in variables.tf"
        default = re.compile(r"default\s*=\s*\[").search(self.variables, block.end())
        assert default, f"variable {name} has no list default"
        return _balanced(self.variables, default.end() - 1)

    def columns(self, expr: str) -> Columns:
        expr = expr.strip()
        if expr.startswith("["):
            return COLUMN.findall(expr)
        if expr.startswith("concat("):
            return [c for arg in _top_level_args(expr) for c in self.columns(arg)]
        if expr.startswith("local."):
            return self.columns(self._local(expr.removeprefix("local.")))
        if expr.startswith("var."):
            return self.columns(self._var_default(expr.removeprefix("var.")))
        raise ValueError(f"cannot read a column list from {expr!r}")

    def tables(self) -> dict[str, dict[str, object]]:
        body = self._local("tables")[1:-1]
        out: dict[str, dict[str, object]] = {}
        key = re.compile(r"(\w+)\s*=\s*\{")
        pos = 0
        while match := key.search(body, pos):
            block = _balanced(body, match.end() - 1)
            pos = match.end() - 1 + len(block)  # the next table starts after this one
            fields = dict(re.findall(r'^\s*(zone|name|partition)\s*=\s*"([^"]+)"', block, re.M))
            columns = re.search(r"^\s*columns\s*=\s*(\S[^\n]*)", block, re.M)
            assert columns, f"table {match.group(1)} has no columns"
            value = columns.group(1).strip()
            if value[-1] in "[(":  # the expression spans lines
                opener = columns.start(1) + len(columns.group(1).rstrip()) - 1
                value = block[columns.start(1) : opener] + _balanced(block, opener)
            out[match.group(1)] = {**fields, "columns": self.columns(value)}
        return out


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(
        (LAKE_MODULE / "catalog.tf").read_text(), (LAKE_MODULE / "variables.tf").read_text()
    )


def test_every_catalog_table_holds_the_columns_the_pipeline_writes(catalog: Catalog) -> None:
    tables = catalog.tables()
    assert set(tables) == set(GLUE_TABLES)
    for key, table in tables.items():
        python = GLUE_TABLES[key]
        assert (table["zone"], table["name"], table["partition"]) == (
            python.zone,
            python.name,
            python.partition,
        ), key
        assert table["columns"] == python.columns(), key


def test_the_curated_table_lists_the_clean_flags(catalog: Catalog) -> None:
    columns = dict(catalog.tables()["curated_events"]["columns"])  # type: ignore[arg-type]
    assert {f: columns.get(f) for f in CLEAN_FLAGS} == dict.fromkeys(CLEAN_FLAGS, "boolean")


def test_a_column_missing_on_either_side_is_seen(catalog: Catalog) -> None:
    text = catalog.text.replace('    { name = "amount_capped", type = "boolean" },\n', "")
    assert text != catalog.text
    edited = Catalog(text, catalog.variables).tables()["curated_events"]["columns"]
    assert edited != GLUE_TABLES["curated_events"].columns()
    variables = catalog.variables.replace('"banner_ctr"', '"banner_rate"')
    assert variables != catalog.variables
    features = Catalog(catalog.text, variables).tables()["features_user_features"]["columns"]
    assert features != GLUE_TABLES["features_user_features"].columns()


def test_lake_schemas_are_the_contract_renamed_plus_lineage_and_flags() -> None:
    contract = event_arrow_schema(STORED_COLUMNS, LAKE_NAMES)
    assert LAKE_EVENT_SCHEMA.names[: len(contract)] == contract.names
    assert LAKE_EVENT_SCHEMA.names[len(contract) :] == ["ingest_ts", "source"]
    assert "user_id" not in LAKE_EVENT_SCHEMA.names  # the raw id is never stored
    assert CURATED_EVENT_SCHEMA.names == [*LAKE_EVENT_SCHEMA.names, *CLEAN_FLAGS, *CLEAN_ORIGINALS]
    assert all(CURATED_EVENT_SCHEMA.field(f).type == pa.bool_() for f in CLEAN_FLAGS)
    assert all(CURATED_EVENT_SCHEMA.field(f).type == pa.float64() for f in CLEAN_ORIGINALS)
