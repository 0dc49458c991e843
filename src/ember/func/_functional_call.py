"""functional_call: run a module with some parameters and buffers swapped out.

Works with any object that has ``named_parameters()``/``named_buffers()`` and
attribute assignment.  A module keeping its tensors in ``_parameters``/``_buffers``
dicts (torch's layout) gets them swapped there directly, which bypasses the
``Parameter``-only check of ``__setattr__``; any other attribute is set with
``setattr``.  Everything is restored afterwards, also when the call raises.
"""
__all__ = ["functional_call"]

_MISSING = object()


def _named(module, method):
    fn = getattr(module, method, None)
    if fn is None:
        return []
    try:
        return list(fn(remove_duplicate=False))
    except TypeError:
        return list(fn())


def _owner(module, name):
    *path, attr = name.split(".")
    for p in path:
        module = getattr(module, p)
    return module, attr


def _swap(module, name, value):
    """Put ``value`` at ``name``; return what to restore."""
    owner, attr = _owner(module, name)
    for store in ("_parameters", "_buffers"):
        d = owner.__dict__.get(store)
        if isinstance(d, dict) and attr in d:
            old = d[attr]
            d[attr] = value
            return owner, attr, store, old
    old = owner.__dict__.get(attr, _MISSING)
    if old is _MISSING and hasattr(owner, attr):
        old = getattr(owner, attr)
    object.__setattr__(owner, attr, value) if old is _MISSING else setattr(owner, attr, value)
    return owner, attr, None, old


def _restore(owner, attr, store, old):
    if store is not None:
        owner.__dict__[store][attr] = old
    elif old is _MISSING:
        object.__delattr__(owner, attr)
    else:
        setattr(owner, attr, old)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the given tensors in place of its own.

    With ``tie_weights``, a tensor given for one name of a tied parameter (one
    object registered under several names) replaces it under all of them.
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    else:
        values = {}
        seen = set()
        for d in parameter_and_buffer_dicts:
            dup = [k for k in d if k in seen]
            if dup:
                raise ValueError(f"{dup} appeared in multiple dictionaries; behavior of "
                                 "functional call is ambiguous")
            seen.update(d)
            values.update(d)
    named = _named(module, "named_parameters") + _named(module, "named_buffers")
    if tie_weights:
        by_obj = {}
        for n, t in named:
            by_obj.setdefault(id(t), []).append(n)
        for names in by_obj.values():
            given = [n for n in names if n in values]
            if given and len(names) > 1:
                for n in names:
                    values.setdefault(n, values[given[0]])
    if strict:
        known = [n for n, _ in named]
        unexpected = [k for k in values if k not in known]
        missing = [k for k in known if k not in values]
        if unexpected or missing:
            msg = f"Error(s) in reparametrizing for {type(module).__name__}:\n"
            if unexpected:
                msg += "\tUnexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".\n"
            if missing:
                msg += "\tMissing key(s): " + ", ".join(repr(k) for k in missing) + ".\n"
            raise RuntimeError(msg.rstrip("\n"))
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    restore = []
    try:
        for name, value in values.items():
            restore.append(_swap(module, name, value))
        return module(*args, **(kwargs or {}))
    finally:
        for entry in reversed(restore):
            _restore(*entry)
