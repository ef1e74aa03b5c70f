"""Reading a route handler's own code (its source, with ``ast``) for what the OpenAPI document needs.

:func:`read_handler` finds the pydantic model given to ``parse(request, Model)``, the query
parameters read through ``page_params``, ``query_int`` and ``request.query_params.get``,
whether it calls ``authenticate`` (and with ``allow_unaccepted``), the roles given to
``require_role``, and the statuses given to ``ok(..., 201)`` or ``status_code=``. It follows
calls into helpers of the handler's module and of ``server.api``, with the literal arguments
of the call bound to the helper's parameters, so ``_day(request, "from")`` is the query
parameter ``from``. What it cannot see is declared next to the handler with
``server.api.openapi.describe``.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel

MAX_ID = 2**62

PAGE_PARAMETERS = {
    "before": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_ID,
        "description": "Only items older than this id (the previous page's `next_before`).",
    },
    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
}

# Calls whose meaning the reader knows; it never descends into them.
_KNOWN = {"parse", "authenticate", "require_role", "page_params", "query_int", "ok", "limit"}


@dataclass
class Findings:
    """What reading a handler's code found."""

    models: list[type[BaseModel]] = field(default_factory=list)
    authenticated: bool = False
    policy_exempt: bool = False
    roles: list[str] = field(default_factory=list)
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: set[int] = field(default_factory=set)
    home: str = ""  # the handler's module: its helpers are read too


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _literal(node: ast.AST | None, bound: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in bound:
        return bound[node.id]
    return None


def _ints(node: ast.AST | None) -> set[int]:
    if node is None:
        return set()
    return {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and type(n.value) is int and 100 <= n.value < 600
    }


@cache
def _tree(function: Callable[..., Any]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    node = ast.parse(source).body[0]
    return node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None


def _is_query_get(node: ast.Call) -> bool:
    """``request.query_params.get(...)``."""
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "query_params"
    )


def read_handler(handler: Callable[..., Any]) -> Findings:
    """Read a handler (and the helpers of ``server.api`` it calls) for what the document needs."""
    found = Findings(home=handler.__module__)
    _read(handler, {}, found, set(), depth=0)
    return found


def _read(
    function: Callable[..., Any], bound: dict[str, Any], found: Findings, seen: set[Any], depth: int
) -> None:
    tree = _tree(function)
    if tree is None or depth > 4:
        return
    names = function.__globals__
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "status_code" for t in node.targets
        ):
            found.statuses |= _ints(node.value)
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        args = node.args
        for keyword in node.keywords:
            if keyword.arg == "status_code":
                found.statuses |= _ints(keyword.value)
        if name == "parse" and len(args) == 2 and isinstance(args[1], ast.Name):
            model = names.get(args[1].id)
            if isinstance(model, type) and issubclass(model, BaseModel) and model not in found.models:
                found.models.append(model)
        elif name == "authenticate":
            found.authenticated = True
            if any(k.arg == "allow_unaccepted" and _literal(k.value, bound) for k in node.keywords):
                found.policy_exempt = True
        elif name == "require_role":
            found.roles += [r for r in (_literal(a, bound) for a in args[1:]) if isinstance(r, str)]
        elif name == "page_params":
            for key, schema in PAGE_PARAMETERS.items():
                found.query.setdefault(key, dict(schema))
        elif name == "query_int" and len(args) >= 2:
            key = _literal(args[1], bound)
            if isinstance(key, str):
                found.query.setdefault(key, {"type": "integer", "minimum": 1, "maximum": MAX_ID})
        elif name == "ok":
            found.statuses |= _ints(args[1] if len(args) > 1 else None) or {200}
        elif _is_query_get(node) and args:
            key = _literal(args[0], bound)
            if isinstance(key, str):
                found.query.setdefault(key, {"type": "string"})
        elif name not in _KNOWN and isinstance(node.func, ast.Name):
            _follow(names.get(node.func.id), node, bound, found, seen, depth)


def _follow(
    callee: Any, call: ast.Call, bound: dict[str, Any], found: Findings, seen: set[Any], depth: int
) -> None:
    """Read a helper (of the handler's module or ``server.api``) with the literals it was given bound."""
    if not inspect.isfunction(callee) or callee in seen:
        return
    if not (callee.__module__ == found.home or callee.__module__.startswith("server.api")):
        return
    seen.add(callee)
    params = list(inspect.signature(callee).parameters)
    inner: dict[str, Any] = {}
    for index, arg in enumerate(call.args):
        if index < len(params):
            inner[params[index]] = _literal(arg, bound)
    for keyword in call.keywords:
        if keyword.arg:
            inner[keyword.arg] = _literal(keyword.value, bound)
    _read(callee, {k: v for k, v in inner.items() if v is not None}, found, seen, depth + 1)
    seen.discard(callee)
