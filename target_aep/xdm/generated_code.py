"""The one place generated mapping source becomes a function (`define`), each distinct source compiled once.

The mapping is compiled per stream into generated functions (the mapper's `map_record`, tenant blocks, object
fitters, order builders). Streams share most of that source: the 52 Stripe streams' first records built 52
tenant blocks from 17 distinct sources, 52 `map_record`s from 5, 41 object fitters from 13; what differs between
them is the namespace (each stream's fitters, constants, object type), not the code. `compile` was half of
building every mapper (0.16 of 0.32 s of CPU), paid again by each mapping worker; a code object is immutable and
runs in whatever globals it is executed with, so one per distinct source serves every stream.
"""

from __future__ import annotations

import typing as t
from types import CodeType

_compiled: dict[str, CodeType] = {}  # source -> its module code, for the life of the process (a few MB at most)


def define(source: str, name: str, namespace: dict[str, t.Any], filename: str) -> t.Any:
    """Execute ``source`` (our own generated code, defining the function ``name``) in ``namespace`` and return
    that function. A traceback through it names ``filename`` (the stream or object it was generated for), even
    when its code was compiled for another stream with the same source."""
    code = _compiled.get(source)
    if code is None:
        code = _compiled[source] = compile(source, filename, "exec")
    exec(code, namespace)  # our own generated source
    function = namespace[name]
    if function.__code__.co_filename != filename:
        function.__code__ = function.__code__.replace(co_filename=filename)
    return function
