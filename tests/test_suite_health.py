"""The test suite itself: every test function checks something, and no check is vacuous.

A test that only runs code passes whatever the code computes, and ``assert x == x`` passes
whatever x is. Both are found statically, so they cannot come back unnoticed.
"""
import ast
import pathlib

TESTS = pathlib.Path(__file__).resolve().parent

# Calls that check by themselves: they raise when what they are given is wrong. Helpers
# written inside tests/ (same, close, check_module, assert_same, ...) are not listed: a
# module-level function there counts as a check when its own body asserts or calls a check,
# followed through imports between test modules, so a helper that stops checking stops
# counting, which a hand-kept list would not notice.
CHECKING_CALLS = {
    "assert_allclose", "assert_array_equal", "assert_array_almost_equal", "assert_equal",
    "assert_almost_equal", "assert_array_less",     # numpy.testing
    "assert_close",                                  # torch.testing
    "raises", "warns", "deprecated_call", "fail",    # pytest
}

# Test functions allowed to have no check, each with its reason. Empty: keep it so.
EXEMPT = {}


def _modules():
    return {p: ast.parse(p.read_text(), filename=str(p)) for p in sorted(TESTS.rglob("*.py"))}


def _module_path(importer, node):
    """The file under tests/ that ``from X import ...`` names, or None."""
    if node.level:
        base = importer.parent
        for _ in range(node.level - 1):
            base = base.parent
        parts = (node.module or "").split(".") if node.module else []
    else:
        parts = (node.module or "").split(".")
        if parts[0] == "tests":
            parts = parts[1:]
        base = TESTS
    path = base.joinpath(*parts).with_suffix(".py") if parts else None
    return path if path is not None and path.is_file() else None


def _called_names(node):
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Attribute):
                yield f.attr
            elif isinstance(f, ast.Name):
                yield f.id


def _asserts_directly(node):
    for n in ast.walk(node):
        if isinstance(n, ast.Assert):
            return True
        if isinstance(n, ast.Raise) and n.exc is not None:
            exc = n.exc.func if isinstance(n.exc, ast.Call) else n.exc
            if isinstance(exc, ast.Name) and exc.id == "AssertionError":
                return True
    return False


def _checking_functions(modules):
    """For each module, the names callable there that check: its own functions that assert
    or call a check, and those it imports from other test modules."""
    defs = {p: {} for p in modules}
    imports = {p: {} for p in modules}
    for p, tree in modules.items():
        for n in tree.body:    # module-level helpers: a nested one is walked with its caller
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defs[p][n.name] = n
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom):
                src = _module_path(p, n)
                if src is not None and src in modules:
                    for a in n.names:
                        imports[p][a.asname or a.name] = (src, a.name)
    checking = {p: set() for p in modules}
    changed = True
    while changed:
        changed = False
        for p in modules:
            for name, (src, orig) in imports[p].items():
                if name not in checking[p] and orig in checking[src]:
                    checking[p].add(name)
                    changed = True
            known = CHECKING_CALLS | checking[p]
            for name, f in defs[p].items():
                if name in checking[p]:
                    continue
                if _checks(f, known):
                    checking[p].add(name)
                    changed = True
    return checking


def _checks(f, known):
    return _asserts_directly(f) or any(c in known for c in _called_names(f))


def _test_functions(tree):
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test"):
            yield n
        elif isinstance(n, ast.ClassDef) and n.name.startswith("Test"):
            for m in n.body:
                if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                        and m.name.startswith("test"):
                    yield m


def _vacuous(test):
    """An assert that holds whatever the code under test does: a true constant, a non-empty
    tuple (``assert (x, "message")``), or a comparison of a value with itself."""
    t = test.test
    if isinstance(t, ast.Constant):
        return bool(t.value)
    if isinstance(t, (ast.Tuple, ast.List)):
        return bool(t.elts)
    if isinstance(t, ast.Compare) and len(t.ops) == 1 \
            and isinstance(t.ops[0], (ast.Eq, ast.Is, ast.LtE, ast.GtE)):
        return _same_reference(t.left, t.comparators[0])
    return False


def _same_reference(a, b):
    # Only call-free expressions (x, x.grad, out[0]): two calls may well give two values.
    return ast.dump(a) == ast.dump(b) and not any(isinstance(n, ast.Call) for n in ast.walk(a))


def test_every_test_function_checks_something():
    modules = _modules()
    checking = _checking_functions(modules)
    missing, seen = [], set()
    for p, tree in modules.items():
        if not p.name.startswith("test_"):
            continue
        known = CHECKING_CALLS | checking[p]
        for f in _test_functions(tree):
            where = f"{p.relative_to(TESTS)}::{f.name}"
            seen.add(where)
            if where not in EXEMPT and not _checks(f, known):
                missing.append(where)
    assert not missing, "test functions that check nothing:\n" + "\n".join(missing)
    assert set(EXEMPT) <= seen, f"stale EXEMPT entries: {sorted(set(EXEMPT) - seen)}"


def _compares_with_itself(call):
    """``assert_allclose(x, x)`` and the like: a checking call given one value twice."""
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    return name in CHECKING_CALLS and len(call.args) >= 2 \
        and _same_reference(call.args[0], call.args[1])


def test_no_check_is_vacuous():
    found = []
    for p, tree in _modules().items():
        for n in ast.walk(tree):
            if isinstance(n, ast.Assert) and _vacuous(n) \
                    or isinstance(n, ast.Call) and _compares_with_itself(n):
                found.append(f"{p.relative_to(TESTS)}:{n.lineno}: {ast.unparse(n)}")
    assert not found, "checks that cannot fail:\n" + "\n".join(found)


def test_the_scan_sees_what_it_is_meant_to_see():
    # The scan itself, on small sources: a test that only runs code, one that asserts, one
    # that checks through a local helper, one through pytest.raises, and vacuous asserts.
    src = (
        "def helper(a):\n    assert a\n"
        "def test_runs_only():\n    f(1)\n"
        "def test_asserts():\n    assert f(1) == 2\n"
        "def test_via_helper():\n    helper(f(1))\n"
        "def test_raises():\n    with pytest.raises(ValueError):\n        f(1)\n"
    )
    tree = ast.parse(src)
    fake = TESTS / "test_fake_for_scan.py"
    checking = _checking_functions({fake: tree})[fake]
    known = CHECKING_CALLS | checking
    bare = [f.name for f in _test_functions(tree) if not _checks(f, known)]
    assert bare == ["test_runs_only"]
    asserts = [n for n in ast.walk(ast.parse(
        "assert True\nassert x.a[0] == x.a[0]\nassert (x, 'why')\nassert f(x) is f(x)\n"
        "assert x == y\nassert 0\n")) if isinstance(n, ast.Assert)]
    assert [_vacuous(a) for a in asserts] == [True, True, True, False, False, False]
    calls = [n for n in ast.walk(ast.parse("np.testing.assert_allclose(x.grad, x.grad)\n"
                                           "assert_close(x, y)\n")) if isinstance(n, ast.Call)]
    assert [_compares_with_itself(c) for c in calls] == [True, False]


def test_no_merge_conflict_markers_left_in_the_tree():
    # ruff parses only Python; a conflict left in a doc or config would pass it silently.
    root = TESTS.parent
    markers = ("<" * 7 + " ", "=" * 7 + "\n", ">" * 7 + " ")
    found = []
    for folder in ("src", "tests", "docs", "benchmarks", "examples", "tools"):
        for p in sorted((root / folder).rglob("*")):
            if p.suffix in (".py", ".md", ".toml", ".txt", ".cfg") and p.is_file():
                for n, line in enumerate(p.read_text(errors="ignore").splitlines(True), 1):
                    if line.startswith(markers):
                        found.append(f"{p.relative_to(root)}:{n}")
    for p in (root / "README.md", root / "pyproject.toml"):
        found += [f"{p.name}:{n}" for n, line in enumerate(p.read_text().splitlines(True), 1)
                  if line.startswith(markers)]
    assert not found, found
