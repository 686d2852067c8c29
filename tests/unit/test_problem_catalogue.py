"""Every problem code has its Chinese `detail`: the codes documented in docs/errors.md, the codes the
catalogue's `problem.json` has texts for, and the codes the sources raise must agree, so that no
problem is answered in English to a zh-CN request for want of a text, and no code goes undocumented.

The sources are read, not run: a code is set by a `code=` keyword (`NotFound("...", code="x")`), a
`code` class attribute (`status, code = 429, "login_throttled"`), or the positional code argument of
the few constructors that take one first (`POSITIONAL`). Where the value is a name, its assignments in
the same function or module are followed (`code = _HTTP_CODES.get(status, "http_error")`); where it
is an f-string, its names are followed too (`f"{what}_busy"`, `what = "driver" if ... else "vehicle"`)
and, when one stays open (a parameter), the f-string must match at least one documented code."""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from dispatch.i18n import LOCALES, LocaleName, catalogue

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("dispatch", "driver_api")
# Callables whose code comes first (or second) among their positional arguments.
POSITIONAL = {
    "problem_response": 1,
    "problem_body": 1,
    "InfeasibleCargo": 0,
    "PlateRefused": 0,
    "InvalidToken": 0,
}
_CODE = re.compile(r"[a-z][a-z0-9_]*")


def documented_codes() -> set[str]:
    """The codes of docs/errors.md's table: backticked names in the code column, outside parentheses
    (those name members: `outside_geofence` (with `distance_m`))."""
    codes: set[str] = set()
    for line in (ROOT / "docs" / "errors.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            continue
        cell = re.sub(r"\([^)]*\)", "", cells[1])
        codes |= {name for name in re.findall(r"`([^`]*)`", cell) if _CODE.fullmatch(name)}
    return codes


def catalogued_codes(locale: LocaleName) -> set[str]:
    return {key.removeprefix("problem.") for key in catalogue(locale) if key.startswith("problem.")}


class _Module:
    """One source file: where a code is set, and what its names are assigned."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.module_names = _assignments(self.tree.body)
        self.function_of: dict[ast.AST, dict[str, list[ast.expr]]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = _assignments(list(ast.walk(node)))
                for inner in ast.walk(node):
                    self.function_of.setdefault(inner, names)

    def code_expressions(self) -> Iterator[tuple[ast.AST, ast.expr]]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                yield from ((node, k.value) for k in node.keywords if k.arg == "code")
                position = POSITIONAL.get(_callee(node) or "")
                if position is not None and len(node.args) > position:
                    yield node, node.args[position]
            elif isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if isinstance(statement, ast.Assign):
                        for target in statement.targets:
                            yield from ((statement, v) for v in _assigned_to(target, statement.value, "code"))
                    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                        yield from (
                            (statement, v) for v in _assigned_to(statement.target, statement.value, "code")
                        )

    def values(self, node: ast.AST, expr: ast.expr, depth: int = 0) -> list[str] | None:
        """The strings `expr` can be, or None when it is open (a parameter, an attribute)."""
        if depth > 4:
            return None
        if isinstance(expr, ast.Constant):
            return [expr.value] if isinstance(expr.value, str) else []
        if isinstance(expr, ast.IfExp):
            return _both(self.values(node, expr.body, depth + 1), self.values(node, expr.orelse, depth + 1))
        if isinstance(expr, ast.Dict):
            found: list[str] | None = []
            for value in expr.values:
                found = _both(found, self.values(node, value, depth + 1))
            return found
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get":
            found = self.values(node, expr.func.value, depth + 1)  # a table of codes, and its default
            for default in expr.args[1:]:
                found = _both(found, self.values(node, default, depth + 1))
            return found
        if isinstance(expr, ast.JoinedStr):
            parts: list[list[str]] = []
            for part in expr.values:
                if isinstance(part, ast.FormattedValue):
                    options = self.values(node, part.value, depth + 1)
                    if not options:
                        return None
                    parts.append(options)
                else:
                    parts.append([str(getattr(part, "value", ""))])
            return ["".join(p) for p in itertools.product(*parts)]
        if isinstance(expr, ast.Name):
            assigned = self.function_of.get(node, {}).get(expr.id) or self.module_names.get(expr.id)
            if not assigned:
                return None
            found = []
            for value in assigned:
                found = _both(found, self.values(node, value, depth + 1))
            return found
        return None

    def patterns(self, expr: ast.expr) -> str:
        """An open f-string as a pattern: `f"not_a_{party}"` is `not_a_.+`."""
        if isinstance(expr, ast.JoinedStr):
            return "".join(
                re.escape(str(p.value)) if isinstance(p, ast.Constant) else ".+" for p in expr.values
            )
        return ".+"


def _both(a: list[str] | None, b: list[str] | None) -> list[str] | None:
    return None if a is None or b is None else a + b


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _assigned_to(target: ast.expr, value: ast.expr, name: str) -> list[ast.expr]:
    if isinstance(target, ast.Name) and target.id == name:
        return [value]
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        return [
            v
            for t, v in zip(target.elts, value.elts, strict=False)
            if isinstance(t, ast.Name) and t.id == name
        ]
    return []


def _assignments(nodes: list[ast.AST] | list[ast.stmt]) -> dict[str, list[ast.expr]]:
    names: dict[str, list[ast.expr]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(element, ast.Name):
                        names.setdefault(element.id, []).extend(_assigned_to(target, node.value, element.id))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            names.setdefault(node.target.id, []).append(node.value)
    return names


def raised_codes() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The codes the sources set ({code: {where}}), and the open f-strings ({pattern: {where}})."""
    codes: dict[str, set[str]] = {}
    open_patterns: dict[str, set[str]] = {}
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = _Module(path)
            for node, expr in module.code_expressions():
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
                found = module.values(node, expr)
                if found is None:
                    if isinstance(expr, ast.JoinedStr):
                        open_patterns.setdefault(module.patterns(expr), set()).add(where)
                    continue  # an attribute (`exc.code`): its constructor's argument is read instead
                for code in found:
                    if _CODE.fullmatch(code):
                        codes.setdefault(code, set()).add(where)
    return codes, open_patterns


def test_every_documented_code_has_a_text_in_every_language() -> None:
    documented = documented_codes()
    assert len(documented) > 100, "docs/errors.md's table was not read"
    for locale in LOCALES:
        missing = sorted(documented - catalogued_codes(locale))
        assert not missing, (
            f"codes in docs/errors.md without problem.<code> in {locale}/problem.json: {missing}"
        )


def test_the_catalogue_has_texts_only_for_documented_codes() -> None:
    documented = documented_codes()
    for locale in LOCALES:
        unknown = sorted(catalogued_codes(locale) - documented)
        assert not unknown, f"{locale}/problem.json has texts for codes not in docs/errors.md: {unknown}"


def test_every_code_the_sources_raise_is_documented() -> None:
    codes, open_patterns = raised_codes()
    documented = documented_codes()
    # The scan finds what it must: literal keywords, class defaults, tables, f-strings, positional codes.
    for known in ("site_not_found", "login_throttled", "method_not_allowed", "driver_busy", "too_many_trips"):
        assert known in codes, f"the scan missed {known}"
    undocumented = {code: sorted(where) for code, where in codes.items() if code not in documented}
    assert not undocumented, f"codes raised but not in docs/errors.md: {undocumented}"
    unmatched = {
        pattern: sorted(where)
        for pattern, where in open_patterns.items()
        if not any(re.fullmatch(pattern, code) for code in documented)
    }
    assert not unmatched, f"codes made from a value (f-strings) that match no documented code: {unmatched}"
