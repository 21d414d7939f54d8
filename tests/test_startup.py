"""Start-up: the IRI grammar `jsonschema` builds at import is deferred by both plugins, and IRI checks still give
the same answers."""

from __future__ import annotations

import subprocess
import sys

import pytest

IRI_ANSWERS = """
import jsonschema
checker = jsonschema.FormatChecker()
values = ("http://ex.com/a b", "http://ex.com/\\u00e4", "//x", "::")
print([checker.conforms(v, f) for v in values for f in ("iri", "iri-reference")])
"""

DEFERRED = """
import sys
import {module}
assert type(sys.modules["rfc3987_syntax"]).__name__ == "_DeferredRfc3987Syntax", "the grammar was built at import"
"""


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("module", ["target_aep.target", "tap_stripe_aep.tap"])
def test_iri_grammar_is_deferred_and_iri_checks_are_unchanged(module: str) -> None:
    answers = _run(DEFERRED.format(module=module) + IRI_ANSWERS)
    assert answers == _run(IRI_ANSWERS)
    assert "True" in answers and "False" in answers  # the checks really ran, both ways
