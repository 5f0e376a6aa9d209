"""The input/output tables of the module READMEs are generated (``make tf-docs``) and current.

No terraform binary needed: ``tools/tf_docs.py`` reads the fmt-canonical ``variables.tf`` and
``outputs.tf`` itself, so this runs in the fast suite.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_tf_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tf_docs", ROOT / "tools" / "tf_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tf_docs"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


tf_docs = _load_tf_docs()
MODULES = tf_docs.module_dirs()


def test_every_module_is_documented() -> None:
    names = {p.name for p in MODULES}
    assert {"network", "lambda_function", "deployment", "orchestration"} <= names
    assert names == {p.parent.name for p in (ROOT / "terraform" / "modules").glob("*/main.tf")}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_readme_tables_are_current(module: Path) -> None:
    readme = (module / "README.md").read_text()
    generated = tf_docs.render(module)
    assert generated in readme, f"{module.name}/README.md is stale: run `make tf-docs`"
    names = [v.name for v in tf_docs.read_variables((module / "variables.tf").read_text())]
    assert names and all(f"| `{n}` |" in generated for n in names)


SAMPLE_VARIABLES = """
variable "plain" {
  description = "A \\"quoted\\" word, a pipe | and <name>."
  type        = string
}

variable "shaped" {
  description = <<-EOT
    Two lines
    of prose.
  EOT
  type = object({
    id         = string
    subnet_ids = optional(list(string), [])
  })
  default = {
    id = "vpc-1" # a comment { with a brace
  }

  validation {
    condition     = var.shaped.id != ""
    error_message = "An id = is needed."
  }
}
"""

SAMPLE_OUTPUTS = """
output "arn" {
  description = "ARN of `<name>`."
  value = {
    a = 1
  }
}
"""


def test_reads_fmt_canonical_blocks() -> None:
    plain, shaped = tf_docs.read_variables(SAMPLE_VARIABLES)
    description = 'A "quoted" word, a pipe | and <name>.'
    assert plain == tf_docs.Variable("plain", description, "string", None)
    assert shaped.description == "Two lines of prose."
    assert shaped.type == "object({ id = string, subnet_ids = optional(list(string), []) })"
    assert shaped.default == '{ id = "vpc-1" }'
    assert tf_docs.read_outputs(SAMPLE_OUTPUTS) == [tf_docs.Output("arn", "ARN of `<name>`.")]


def test_renders_escaped_cells(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(SAMPLE_VARIABLES)
    (tmp_path / "outputs.tf").write_text(SAMPLE_OUTPUTS)
    text = tf_docs.render(tmp_path)
    assert '| `plain` | A "quoted" word, a pipe \\| and &lt;name>. | `string` | n/a | yes |' in text
    assert "| `arn` | ARN of `<name>`. |" in text  # code spans keep their <


def test_readme_update_keeps_the_prose() -> None:
    generated = tf_docs.BEGIN + "\ntables\n" + tf_docs.END + "\n"
    fresh = tf_docs.updated_readme("# module\n\nprose\n", generated)
    assert fresh == "# module\n\nprose\n\n" + generated
    stale = fresh.replace("tables", "old tables") + "\nafterword\n"
    assert tf_docs.updated_readme(stale, generated) == fresh + "\nafterword\n"
    with pytest.raises(ValueError):
        tf_docs.updated_readme("# module\n" + tf_docs.END, generated)
