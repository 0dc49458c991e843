"""Public functions take torch's parameter names, so keyword calls port unchanged.

torch's parameters come from ``inspect.signature`` where it works, else from the
docstring's signature lines (``flip(input, dims) -> Tensor``; one line per overload).
Every keyword-usable torch parameter must be accepted by name, and one that torch takes
by position must not be keyword-only in Ember.  Ember's extra parameters are not checked.
"""
import inspect
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

NAMESPACES = [("torch", ember, torch), ("nn.functional", F, TF),
              ("linalg", ember.linalg, torch.linalg), ("fft", ember.fft, torch.fft),
              ("special", ember.special, torch.special), ("Tensor", ember.Tensor, torch.Tensor)]

# Not compared: Ember supports ``out=`` on some functions only (about 75 of torch's functions
# with an out= lack it, e.g. the torch.fft ones); giving them one is a feature of its own,
# not a naming difference.  (Tensor methods never take out=.)
IGNORED = {"out"}

# Deliberate differences: "namespace.function" -> {torch parameter: why Ember lacks it}.
_SPLIT = ("one Ember parameter takes an int or a list; torch names its overloads' parameter "
          "sections / indices by type")
_NO_OUT_DTYPE = "out_dtype (torch 2.13's low-precision matmul output dtype) is not supported"
ALLOWED = {
    # the parsed schema lists layout=, which torch's Python binding itself rejects
    "torch.sparse_coo_tensor": {"layout": "torch's binding takes no layout argument"},
    "torch.addmm": {"out_dtype": _NO_OUT_DTYPE},
    "torch.baddbmm": {"out_dtype": _NO_OUT_DTYPE},
    "torch.bmm": {"out_dtype": _NO_OUT_DTYPE},
    "torch.mm": {"out_dtype": _NO_OUT_DTYPE},
    "Tensor.addmm": {"out_dtype": _NO_OUT_DTYPE},
    "Tensor.baddbmm": {"out_dtype": _NO_OUT_DTYPE},
    "Tensor.bmm": {"out_dtype": _NO_OUT_DTYPE},
    "Tensor.mm": {"out_dtype": _NO_OUT_DTYPE},
    "torch.dsplit": {"indices": _SPLIT},
    "torch.hsplit": {"indices": _SPLIT},
    "torch.vsplit": {"indices": _SPLIT},
    "Tensor.dsplit": {"indices": _SPLIT},
    "Tensor.hsplit": {"indices": _SPLIT},
    "Tensor.vsplit": {"indices": _SPLIT},
    "torch.tensor_split": dict.fromkeys(("sections", "indices", "tensor_indices_or_sections"),
                                        _SPLIT),
    "Tensor.tensor_split": dict.fromkeys(("sections", "indices", "tensor_indices_or_sections"),
                                         _SPLIT),
    "torch.max": {"other": "max(input, other) works positionally (a Tensor where dim goes)"},
    "torch.min": {"other": "min(input, other) works positionally (a Tensor where dim goes)"},
    "Tensor.max": {"other": "x.max(other) works positionally (a Tensor where dim goes)"},
    "Tensor.min": {"other": "x.min(other) works positionally (a Tensor where dim goes)"},
    "torch.result_type": {"scalar": "result_type(scalar, tensor) works positionally"},
    "torch.tensor": {"t": "TorchScript-only overloads; Python's torch.tensor takes data"},
    "Tensor.copy_": {"other": "TorchScript-only overloads; Python's copy_ takes src"},
    "torch.normal": {"input": "normal(input, mean, std) is a TorchScript-only functional form"},
    "Tensor.split": {"split_size": "one function serves torch.split, which names it "
                                   "split_size_or_sections"},
    "linalg.vector_norm": {"input": "torch accepts x (documented) and input; Ember takes x"},
    "linalg.pinv": {"rcond": "deprecated in torch for atol/rtol"},
    "linalg.matrix_rank": {"tol": "deprecated in torch for atol/rtol"},
}


_SIG_LINE = re.compile(r"^\s*(?:\.\. function:: )?(?:torch\.)?([A-Za-z_][\w.]*)\(")


def _split_params(text):
    """The top-level comma-separated items of a parameter list."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return parts + ([cur.strip()] if cur.strip() else [])


def _doc_overloads(fn, name):
    """Parameter lists [(name, kind)] of the docstring lines that spell ``name(...)``."""
    overloads = []
    for line in (getattr(fn, "__doc__", None) or "").splitlines():
        m = _SIG_LINE.match(line)
        if not m or m.group(1).rpartition(".")[2] != name:
            continue
        rest, depth = line[m.end():], 1
        for end, ch in enumerate(rest):  # noqa: B007 (end is read after the loop)
            depth += (ch == "(") - (ch == ")")
            if depth == 0:
                break
        else:
            continue
        params, kwonly = [], False
        for item in _split_params(rest[:end]):
            item = item.replace("\\*", "*")
            if item == "*":
                kwonly = True
            elif item == "/":
                params = [(p, "posonly") for p, _ in params]
            elif item.startswith("*"):
                params.append((item, "var"))
            else:
                params.append((re.split(r"[=:\s]", item)[0], "kwonly" if kwonly else "pos"))
        overloads.append(params)
    return overloads


_KIND = {inspect.Parameter.KEYWORD_ONLY: "kwonly", inspect.Parameter.POSITIONAL_ONLY: "posonly",
         inspect.Parameter.VAR_POSITIONAL: "var", inspect.Parameter.VAR_KEYWORD: "varkw",
         inspect.Parameter.POSITIONAL_OR_KEYWORD: "pos"}


_ATEN_PREFIX = {"torch": "", "nn.functional": "", "Tensor": "", "linalg": "linalg_", "fft": "fft_",
                "special": "special_"}


def _schema_overloads(ns_name, name):
    """torch's overloads of a builtin from its ATen schemas, named as Python spells them:
    a Tensor ``self`` is ``input`` (bound, for methods), output arguments are ``out``.
    Left out: TorchScript-only overloads (no plain Tensor argument where others have one),
    named-tensor ones (Dimname arguments; Ember has no named tensors) and a Scalar
    ``self`` (``torch.pow(self=2, ...)``: positional in practice)."""
    schemas = torch._C._jit_get_schemas_for_operator(f"aten::{_ATEN_PREFIX[ns_name]}{name}")
    plain = [s for s in schemas if any(str(a.type) in ("Tensor", "Optional[Tensor]")
                                       for a in s.arguments)]
    overloads = []
    for schema in plain or schemas:
        if any("Dimname" in str(a.type) for a in schema.arguments):
            continue
        params = []
        for a in schema.arguments:
            if a.kwarg_only and a.alias_info is not None and a.alias_info.is_write:
                if ("out", "kwonly") not in params:  # Python takes one out= (a tuple for many)
                    params.append(("out", "kwonly"))
                continue
            if a.name == "self":
                if ns_name != "Tensor" and str(a.type) == "Tensor":
                    params.append(("input", "pos"))
                continue
            params.append((a.name, "kwonly" if a.kwarg_only else "pos"))
        overloads.append(params)
    return overloads


def _torch_overloads(fn, ns_name, name):
    try:
        params = [(p.name, _KIND[p.kind]) for p in inspect.signature(fn).parameters.values()]
    except (ValueError, TypeError):
        # A builtin: its ATen schemas give its keywords (its docstring often does not).
        return _schema_overloads(ns_name, name) or _doc_overloads(fn, name) or None
    if all(kind in ("var", "varkw") for _, kind in params):
        # A generic (*args, **kwargs) wrapper: the docstring says more.
        return _doc_overloads(fn, name) or None
    if ns_name == "Tensor" and params and params[0][0] == "self":
        params = params[1:]
    return [params]


def _ember_params(fn):
    """{name: kind} of what ``fn`` accepts, through wrappers that add keywords (with_out)."""
    try:
        sig = inspect.signature(fn, follow_wrapped=False)
    except (ValueError, TypeError):
        return None
    params = {p.name: _KIND[p.kind] for p in sig.parameters.values()}
    inner = getattr(fn, "__wrapped__", None)
    if inner is not None and "var" in params.values() and "varkw" in params.values():
        wrapped = _ember_params(inner)
        if wrapped is not None:
            params = {**{k: v for k, v in params.items() if v not in ("var", "varkw")},
                      **wrapped}
    return params


def _public(ns_name, ember_ns):
    if ns_name == "Tensor":
        return [n for n in vars(ember.Tensor) if not n.startswith("_")] + \
            [n for base in ember.Tensor.__mro__[1:-1] for n in vars(base) if not n.startswith("_")]
    return getattr(ember_ns, "__all__", None) or [n for n in dir(ember_ns) if not n.startswith("_")]


def _pairs():
    for ns_name, ember_ns, torch_ns in NAMESPACES:
        for name in sorted(set(_public(ns_name, ember_ns))):
            ef, tf = getattr(ember_ns, name, None), getattr(torch_ns, name, None)
            if not callable(ef) or not callable(tf) or isinstance(ef, type) or isinstance(tf, type):
                continue
            yield ns_name, name, ef, tf


def _differences(ns_name, name, ef, tf, skip):
    """{torch parameter: what is wrong with Ember's} for one function, and a description."""
    method = ns_name == "Tensor"
    overloads = _torch_overloads(tf, ns_name, name)
    eparams = _ember_params(ef)
    if overloads is None or eparams is None:
        return {}, ""
    if method:
        eparams.pop("self", None)
    takes_any = "varkw" in eparams.values()
    # f(x, *args, dims=None): positional calls reach the keyword through *args.
    var_positional = "var" in eparams.values()
    found = {}
    for params in overloads:
        for pname, kind in params:
            if kind in ("var", "varkw", "posonly") or pname in skip:
                continue
            if method and pname in ("self", "input"):
                continue
            ekind = eparams.get(pname)
            if ekind is None and not takes_any:
                found[pname] = f"no parameter {pname!r}"
            elif ekind in ("posonly", "var", "varkw"):
                found[pname] = f"{pname!r} is positional-only"
            elif ekind == "kwonly" and not var_positional and all(
                    k == "pos" for p in overloads for n, k in p if n == pname):
                found[pname] = f"{pname!r} is keyword-only"
    shown = f"{ns_name}.{name}{_show(eparams)} vs torch " + \
        " | ".join(_show(dict(p)) for p in overloads)
    return found, shown


def signature_differences():
    """One line per public function whose parameters differ from torch's."""
    problems = []
    for ns_name, name, ef, tf in _pairs():
        skip = IGNORED | set(ALLOWED.get(f"{ns_name}.{name}", ()))
        found, shown = _differences(ns_name, name, ef, tf, skip)
        if found:
            problems.append(f"{shown}: {sorted(found.values())}")
    return problems


def _show(params):
    return "(" + ", ".join(params) + ")"


def test_public_parameter_names_match_torch():
    problems = signature_differences()
    assert not problems, "\n".join(problems)


def test_allowlist_entries_are_still_needed():
    pairs = {f"{ns}.{name}": (ns, name, ef, tf) for ns, name, ef, tf in _pairs()}
    stale = []
    for key, allowed in ALLOWED.items():
        found = _differences(*pairs[key], IGNORED)[0] if key in pairs else {}
        stale += [f"{key}: {p}" for p in allowed if p not in found]
    assert not stale, f"allowlisted differences that are gone: {stale}"


def test_flip_takes_dims_by_keyword():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    e = ember.flip(ember.tensor(x), dims=[0])
    t = torch.flip(torch.tensor(x), dims=[0])
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    np.testing.assert_array_equal(ember.tensor(x).flip(dims=(0, 1)).numpy(),
                                  torch.tensor(x).flip(dims=(0, 1)).numpy())


@pytest.mark.parametrize("call", [
    lambda m, x: m.reshape(x, shape=(4, 3)),
    lambda m, x: x.reshape(shape=(2, 6)),
    lambda m, x: m.permute(x, dims=(1, 0)),
    lambda m, x: x.permute(dims=[1, 0]),
    lambda m, x: m.zeros(size=(2, 3)),
    lambda m, x: x.new_ones(size=(2,)),
    lambda m, x: m.dot(x[0], tensor=x[1]),
    lambda m, x: m.swapaxes(x, axis0=0, axis1=1),
    lambda m, x: x.view(size=(12,)),
    lambda m, x: x.view(dtype=m.int32),
    lambda m, x: x[:1].expand(size=(2, 4)),
    lambda m, x: x.repeat(repeats=(2, 1)),
    lambda m, x: m.rand_like(x, generator=m.Generator().manual_seed(1)) * 0,
    lambda m, x: m.linalg.matrix_norm(input=x),
    lambda m, x: m.linalg.cholesky(input=x[:, :3] @ x[:, :3].mT + m.eye(3)),
], ids=["reshape", "Tensor.reshape", "permute", "Tensor.permute", "zeros", "new_ones", "dot",
        "swapaxes", "view", "view_dtype", "expand", "repeat", "rand_like", "matrix_norm",
        "cholesky"])
def test_keywords_torch_accepts(call):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    e, t = call(ember, ember.tensor(x)), call(torch, torch.tensor(x))
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)


def test_defaults_match_torch_python_functions():
    """Defaults, where torch's function is Python (its ATen schema spells defaults in its
    own terms: stride=1 as (1, 1), enums as ints), compared by ==."""
    problems = []
    for ns_name, name, ef, tf in _pairs():
        try:
            tsig, esig = inspect.signature(tf), inspect.signature(ef)
        except (ValueError, TypeError):
            continue
        eparams = esig.parameters
        for p in tsig.parameters.values():
            if p.default is p.empty or p.name not in eparams:
                continue
            e = eparams[p.name].default
            same = e is p.default or (type(e) is not np.ndarray and e == p.default)
            if same is not True:
                problems.append(f"{ns_name}.{name}: {p.name}={e!r}, torch {p.default!r}")
    assert not problems, "\n".join(problems)
