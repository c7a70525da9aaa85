"""The committed protocol schema is the one the code generates, and the protocol document names every
message type and close code."""

import json
from pathlib import Path

from proctoring.protocol import CloseCode, json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_schema_equals_the_generated_one() -> None:
    committed = json.loads((DOCS / "proctoring-protocol.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), ("docs/proctoring-protocol.schema.json is stale: regenerate it "
                                        "(command in docs/proctoring-protocol.md)")


def test_the_document_lists_every_close_code_and_message() -> None:
    text = (DOCS / "proctoring-protocol.md").read_text(encoding="utf-8")
    missing = [f"{code.value} {code.name}" for code in CloseCode if f"| {code.value} | {code.name} |" not in text]
    assert missing == []
    schema = json_schema()
    types = {branch for branch in schema["candidate_to_server"]["discriminator"]["mapping"]}
    types |= {"hello", "ack", "identity_result", "control", "error"}
    assert [t for t in sorted(types) if f"### {t}" not in text] == []
