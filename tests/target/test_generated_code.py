"""`generated_code.define`: streams whose generated mapping source is the same share one compiled code object, and
each still runs in its own namespace and names its own stream in a traceback."""

from __future__ import annotations

import builtins
import traceback
import uuid

import pytest

from target_aep.xdm.generated_code import define


def test_a_source_shared_by_streams_is_compiled_once_and_runs_with_each_streams_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled: list[str] = []
    compile_source = builtins.compile

    def counted(source: str, filename: str, mode: str, *args: object, **kwargs: object) -> object:
        if filename.startswith("<tenant block"):  # not pytest's own parsing of a failed assertion
            compiled.append(filename)
        return compile_source(source, filename, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "compile", counted)
    # A source no other test compiled (the cache lives as long as the process).
    source = f"def kind(record):\n    # {uuid.uuid4()}\n    return OBJ_TYPE, record['id']\n"
    charge = define(source, "kind", {"OBJ_TYPE": "charge"}, "<tenant block charge>")
    refund = define(source, "kind", {"OBJ_TYPE": "refund"}, "<tenant block refund>")
    assert compiled == ["<tenant block charge>"]
    assert charge({"id": "ch_1"}) == ("charge", "ch_1") and refund({"id": "re_1"}) == ("refund", "re_1")
    with pytest.raises(KeyError) as failure:
        refund({})
    assert traceback.extract_tb(failure.value.__traceback__)[-1].filename == "<tenant block refund>"
