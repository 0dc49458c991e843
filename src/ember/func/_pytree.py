"""Minimal pytrees for the transforms: tuples, lists and dicts of leaves."""


class Spec:
    """The structure of a tree: ``kind`` is 'leaf', 'tuple', 'list' or 'dict'."""

    __slots__ = ("kind", "keys", "children")

    def __init__(self, kind, keys=None, children=()):
        self.kind = kind
        self.keys = keys
        self.children = children

    @property
    def num_leaves(self):
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, Spec) and self.kind == other.kind and self.keys == other.keys
                and self.children == other.children)

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        inner = ", ".join(map(repr, self.children))
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children)) + "}"
        return f"({inner},)" if self.kind == "tuple" else f"[{inner}]"


def tree_flatten(tree):
    """(leaves, spec)."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves):
    if isinstance(tree, tuple) and not hasattr(tree, "_fields"):
        return Spec("tuple", None, tuple(_flatten(x, leaves) for x in tree))
    if isinstance(tree, list):
        return Spec("list", None, tuple(_flatten(x, leaves) for x in tree))
    if isinstance(tree, dict):
        keys = tuple(tree)
        return Spec("dict", keys, tuple(_flatten(tree[k], leaves) for k in keys))
    leaves.append(tree)
    return Spec("leaf")


def tree_unflatten(leaves, spec):
    it = iter(leaves)
    return _build(it, spec)


def _build(it, spec):
    if spec.kind == "leaf":
        return next(it)
    children = [_build(it, c) for c in spec.children]
    if spec.kind == "tuple":
        return tuple(children)
    if spec.kind == "list":
        return children
    return dict(zip(spec.keys, children))


def broadcast_prefix(prefix, spec):
    """Leaves of ``prefix`` (a tree that is a prefix of ``spec``), one per leaf of ``spec``.

    Returns None when ``prefix`` does not match ``spec``'s structure.
    """
    out = []
    if not _broadcast(prefix, spec, out):
        return None
    return out


def _broadcast(prefix, spec, out):
    if spec.kind == "leaf" or not isinstance(prefix, (tuple, list, dict)):
        if isinstance(prefix, (tuple, list, dict)):
            return False
        out.extend([prefix] * spec.num_leaves)
        return True
    if spec.kind == "dict":
        if not isinstance(prefix, dict) or tuple(prefix) != spec.keys:
            return False
        return all(_broadcast(prefix[k], c, out) for k, c in zip(spec.keys, spec.children))
    if isinstance(prefix, dict) or len(prefix) != len(spec.children):
        return False
    if (spec.kind == "tuple") != isinstance(prefix, tuple):
        return False
    return all(_broadcast(p, c, out) for p, c in zip(prefix, spec.children))
