"""make_dot: torchviz's drawing of an autograd graph, for Ember's graph."""
from .._ops.registry import OpNode
from .._tensor import Tensor

SAVED_PREFIX = "_saved_"
INSTALL_HINT = ("rendering needs Graphviz's 'dot' program: install Graphviz (Debian/Ubuntu: "
                "apt-get install graphviz; macOS: brew install graphviz; conda: conda install "
                "graphviz), or use the DOT text in .source")


_classes = {}


def _digraph(**kw):
    """A ``graphviz.Digraph`` whose rendering, when the ``dot`` program is missing, says
    how to install it (the class is made on first use: graphviz is an optional import)."""
    if not _classes:
        try:
            import graphviz
        except ImportError:
            raise ImportError("ember.viz needs the graphviz package: pip install 'ember[viz]' "
                              "(or pip install graphviz)") from None

        class GraphvizNotFound(graphviz.ExecutableNotFound):
            def __init__(self, message):
                RuntimeError.__init__(self, message)

        def hinted(method):
            def wrapper(self, *args, **kwargs):
                try:
                    return method(self, *args, **kwargs)
                except graphviz.ExecutableNotFound as e:
                    if isinstance(e, GraphvizNotFound):
                        raise
                    raise GraphvizNotFound(f"{e}; {INSTALL_HINT}") from e
            wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
            return wrapper

        _classes["Digraph"] = type("Digraph", (graphviz.Digraph,), {
            "__module__": __name__, "render": hinted(graphviz.Digraph.render),
            "pipe": hinted(graphviz.Digraph.pipe)})
    return _classes["Digraph"](**kw)


def saved_values(fn):
    """``{name: value}`` of what ``fn`` saved, under torch's ``_saved_<name>`` attribute names
    (sorted, as torchviz finds them with ``dir``)."""
    names = set()
    if isinstance(fn, OpNode):
        from .._ops.saved_names import _DEFAULTS, _HIDDEN, _input_names
        op = fn.op
        names.update(_input_names(op))
        if op.save_result:
            names.add("result")
        names.update(k for k, v in fn._params.items() if k not in _HIDDEN and v is not None)
        names.update(_DEFAULTS.get(op.name, ()))
    else:
        names.update(a[len(SAVED_PREFIX):] for a in dir(fn) if a.startswith(SAVED_PREFIX))
    values = {}
    for name in sorted(names):
        try:
            values[name] = getattr(fn, SAVED_PREFIX + name)
        except (AttributeError, RuntimeError):
            continue  # not saved for this call, or already freed by backward
    return values


def _size_to_str(size):
    return "(" + ", ".join("%d" % v for v in size) + ")"


def get_fn_name(fn, show_attrs, max_attr_chars):
    name = type(fn).__name__
    if not show_attrs:
        return name
    attrs = {}
    for attr, val in saved_values(fn).items():
        if isinstance(val, Tensor):
            attrs[attr] = "[saved tensor]"
        elif isinstance(val, tuple) and any(isinstance(t, Tensor) for t in val):
            attrs[attr] = "[saved tensors]"
        else:
            attrs[attr] = str(val)
    if not attrs:
        return name
    max_attr_chars = max(max_attr_chars, 3)
    col1width = max(len(k) for k in attrs)
    col2width = min(max(len(str(v)) for v in attrs.values()), max_attr_chars)
    sep = "-" * max(col1width + col2width + 2, len(name))
    attrstr = "%-" + str(col1width) + "s: %" + str(col2width) + "s"

    def truncate(s):
        return s[:col2width - 3] + "..." if len(s) > col2width else s
    return name + "\n" + sep + "\n" + "\n".join(attrstr % (k, truncate(str(v)))
                                                for k, v in attrs.items())


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """The autograd graph behind ``var`` (a tensor or a tuple of tensors) as a
    ``graphviz.Digraph``: torchviz's ``make_dot``, node for node.

    ``params``: ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) to label leaves;
    ``show_attrs``: list each node's saved non-tensor values; ``show_saved``: draw saved
    tensors as nodes; ``max_attr_chars``: truncate attribute values to this width.
    """
    if params is not None:
        if not all(isinstance(p, Tensor) for p in params.values()):
            raise TypeError("make_dot: params must map names to tensors")
        param_map = {id(v): k for k, v in params.items()}
    else:
        param_map = {}

    node_attr = dict(style="filled", shape="box", align="left", fontsize="10",
                     ranksep="0.1", height="0.2", fontname="monospace")
    dot = _digraph(node_attr=node_attr, graph_attr=dict(size="12,12"))
    seen = set()

    def get_var_name(v, name=None):
        if not name:
            name = param_map.get(id(v), "")
        return "%s\n %s" % (name, _size_to_str(v.size()))

    def saved_node(fn, t, name):
        seen.add(id(t))
        dot.edge(str(id(fn)), str(id(t)), dir="none")
        dot.node(str(id(t)), get_var_name(t, name), fillcolor="orange")

    def add_nodes(root):
        # torchviz recurses; this walks the same order (a node's box, then for each input
        # its edge and at once that input's subtree) with an explicit stack of iterators,
        # since a 100,000-op chain is a legal graph and would overflow Python's stack.
        stack = [iter((root,))]
        while stack:
            fn = next(stack[-1], None)
            if fn is None:
                stack.pop()
                continue
            if fn in seen:
                continue
            seen.add(fn)
            if show_saved:
                for attr, val in saved_values(fn).items():
                    if isinstance(val, Tensor):
                        saved_node(fn, val, attr)
                    elif isinstance(val, tuple):
                        for i, t in enumerate(val):
                            if isinstance(t, Tensor):
                                saved_node(fn, t, f"{attr}[{i}]")
            variable = getattr(fn, "variable", None)
            if variable is not None:  # AccumulateGrad: the leaf it feeds
                seen.add(id(variable))
                dot.node(str(id(variable)), get_var_name(variable), fillcolor="lightblue")
                dot.edge(str(id(variable)), str(id(fn)))
            dot.node(str(id(fn)), get_fn_name(fn, show_attrs, max_attr_chars))
            stack.append(_inputs_with_edges(dot, fn))

    def add_base_tensor(v, color="darkolivegreen1"):
        if id(v) in seen:
            return
        seen.add(id(v))
        dot.node(str(id(v)), get_var_name(v), fillcolor=color)
        if v.grad_fn is not None:
            add_nodes(v.grad_fn)
            dot.edge(str(id(v.grad_fn)), str(id(v)))
        if v._base is not None:
            add_base_tensor(v._base, color="darkolivegreen3")
            dot.edge(str(id(v._base)), str(id(v)), style="dotted")

    for v in (var if isinstance(var, tuple) else (var,)):
        add_base_tensor(v)
    _resize_graph(dot)
    return dot


def _inputs_with_edges(dot, fn):
    """``fn``'s input nodes, drawing each one's edge just before it is visited."""
    for u, _ in fn.next_functions:
        if u is not None:
            dot.edge(str(id(u)), str(id(fn)))
            yield u


def _resize_graph(dot, size_per_element=0.15, min_size=12):
    """Scale the drawing with the number of statements (torchviz's resize_graph)."""
    size = max(min_size, len(dot.body) * size_per_element)
    dot.graph_attr.update(size=f"{size},{size}")
