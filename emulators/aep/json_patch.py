"""JSON Patch (RFC 6902), as the Schema Registry and Catalog accept it: ``add``, ``remove``, ``replace``, ``move``,
``copy`` and ``test`` on a copy of the document; the first failing operation refuses the whole patch."""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    """The patch is malformed or does not apply to the document."""


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"path {pointer!r} must start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _walk(document: Any, tokens: list[str], pointer: str) -> Any:
    """The node at ``tokens`` below ``document``; ``pointer`` names it in the error when it does not exist."""
    node = document
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise PatchError(f"path {pointer!r} does not exist")
    return node


def _parent(document: Any, tokens: list[str], pointer: str) -> tuple[Any, str]:
    return _walk(document, tokens[:-1], pointer), tokens[-1]


def _get(document: Any, pointer: str) -> Any:
    return _walk(document, _tokens(pointer), pointer)


def _add(document: Any, pointer: str, value: Any) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return value
    parent, last = _parent(document, tokens, pointer)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"path {pointer!r}: bad array index")
    else:
        raise PatchError(f"path {pointer!r} does not exist")
    return document


def _remove(document: Any, pointer: str) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent, last = _parent(document, tokens, pointer)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise PatchError(f"path {pointer!r} does not exist")
    return document


def apply_patch(document: Any, operations: Any) -> Any:
    """The patched copy of ``document``; raises :class:`PatchError` naming the first operation that fails."""
    if not isinstance(operations, list) or not operations:
        raise PatchError("the body must be a non-empty JSON array of JSON Patch operations")
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise PatchError(f"operation {index}: needs 'op' and a string 'path'")
        op, path = operation.get("op"), operation["path"]
        try:
            if op in ("add", "replace", "test") and "value" not in operation:
                raise PatchError("needs a 'value'")
            if op == "add":
                result = _add(result, path, copy.deepcopy(operation["value"]))
            elif op == "remove":
                result = _remove(result, path)
            elif op == "replace":
                _get(result, path)
                result = _add(_remove(result, path), path, copy.deepcopy(operation["value"]))
            elif op in ("move", "copy"):
                source = operation.get("from")
                if not isinstance(source, str):
                    raise PatchError("needs a string 'from'")
                value = copy.deepcopy(_get(result, source))
                if op == "move":
                    result = _remove(result, source)
                result = _add(result, path, value)
            elif op == "test":
                if _get(result, path) != operation["value"]:
                    raise PatchError(f"test failed at {path!r}")
            else:
                raise PatchError(f"unknown op {op!r}")
        except PatchError as error:
            raise PatchError(f"operation {index} ({op} {path}): {error}") from None
    return result
