"""repr of a sparse COO tensor, laid out as torch's _tensor_str does for sparse layouts."""
from .._tensor_str import _OPTS, _body, _grad_fn_name, _host_values, _join_suffixes


def _part(t, indent):
    a = _host_values(t)
    if a.size == 0:
        return "[], size=" + str(tuple(a.shape))
    return _body(a, indent, dict(_OPTS))


def sparse_repr(t):
    from .._dtype import get_default_dtype
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    dev = t.device
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")
    suffixes.append("size=" + str(tuple(t.shape)))
    suffixes.append("nnz=" + str(t._nnz()))
    name, default = t.dtype.name, get_default_dtype().name
    if name not in (default, "complex128" if default == "float64" else "complex64", "int64",
                    "bool"):
        suffixes.append("dtype=" + repr(t.dtype))
    ind_prefix, val_prefix = "indices=tensor(", "values=tensor("
    body = (ind_prefix + _part(t._ind, indent + len(ind_prefix)) + "),\n" + " " * indent
            + val_prefix + _part(t._val, indent + len(val_prefix)) + ")")
    suffixes.append("layout=" + repr(t.layout))
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(t._grad_fn)}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    # torch forces the first suffix of a sparse tensor onto its own line
    head = prefix + body + ",\n" + " " * indent + suffixes[0]
    return _join_suffixes(head, suffixes[1:], indent, _OPTS["linewidth"])
