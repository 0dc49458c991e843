"""functional_call: run a module with some parameters/buffers replaced by given tensors."""
import contextlib


def _owner(module, name):
    *path, leaf = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, leaf


@contextlib.contextmanager
def _reparametrize(module, tensors, strict=False):
    known = set(dict(module.named_parameters(remove_duplicate=False))) | \
        set(dict(module.named_buffers(remove_duplicate=False)))
    unexpected = [k for k in tensors if k not in known]
    missing = [k for k in known if k not in tensors]
    if strict and (unexpected or missing):
        parts = []
        if unexpected:
            parts.append("Unexpected key(s): {}.".format(", ".join(map(repr, unexpected))))
        if missing:
            parts.append("Missing key(s): {}.".format(", ".join(map(repr, missing))))
        raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
            type(module).__name__, "\n\t".join(parts)))
    saved = []
    try:
        for name, value in tensors.items():
            owner, leaf = _owner(module, name)
            store = owner._parameters if leaf in owner._parameters else \
                owner._buffers if leaf in owner._buffers else None
            if store is None:
                raise AttributeError(f"{type(owner).__name__} has no parameter or buffer "
                                     f"named '{leaf}'")
            saved.append((store, leaf, store[leaf]))
            # Stored straight into the dict: a plain tensor may stand in for a Parameter.
            store[leaf] = value
        yield
    finally:
        for store, leaf, old in reversed(saved):
            store[leaf] = old


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        merged = {}
        for d in parameter_and_buffer_dicts:
            dup = set(merged) & set(d)
            if dup:
                raise ValueError(f"{sorted(dup)} appeared in multiple dictionaries; behavior of "
                                 "functional call is ambiguous")
            merged.update(d)
    else:
        merged = dict(parameter_and_buffer_dicts)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize(module, merged, strict):
        return module(*args, **(kwargs or {}))
