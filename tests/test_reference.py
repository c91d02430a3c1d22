"""The scenario reference in docs/ is generated from the schema and must not be stale."""

from pathlib import Path

from simulator.config.schema_doc import markdown_reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "scenario-reference.md"


def test_scenario_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == markdown_reference(), (
        "docs/scenario-reference.md is stale: regenerate it with `remnant schema --markdown > docs/scenario-reference.md`"
    )
