"""Custom differentiable operations: ``class F(autograd.Function)`` with static
``forward(ctx, ...)`` and ``backward(ctx, *grads)``, called as ``F.apply(...)``."""
from . import grad_mode
from .grad_mode import _dual_levels as _forward_levels
from .saved import save as _save, unpack as _unpack
from .graph import Node, edge_of


class FunctionCtx:
    """The ``ctx`` API shared by custom Function nodes."""

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        self._saved_for_forward = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = value

    @property
    def saved_tensors(self):
        forward = self.__dict__.get("_in_jvp")
        if forward is not None:  # inside jvp: what save_for_forward kept, as torch's
            return forward
        saved = self.__dict__.get("_saved")
        if saved is None and not self.__dict__.get("_freed"):
            return ()
        return _unpack(self, saved, self._saved_versions)


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of one ``Function.apply`` call; it doubles as ``ctx``."""

    _cls = None
    _num_outputs = 1
    _materialize_grads = True
    _dirty = ()
    _non_differentiable = ()

    def apply(self, grads):
        cls = self._cls
        if self._materialize_grads:
            from .._creation import zeros
            grads = [zeros(meta[0], dtype=meta[1], device=meta[2])
                     if g is None and meta is not None else g
                     for g, meta in zip(grads, self._output_meta)]
        result = cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_args = self._n_args
        if len(result) != n_args:
            if len(result) > n_args and all(r is None for r in result[n_args:]):
                result = result[:n_args]
            else:
                raise RuntimeError(f"function {type(self).__name__} returned an incorrect number "
                                   f"of gradients (expected {n_args}, got {len(result)})")
        out = []
        for pos, meta in zip(self._tensor_positions, self._input_meta):
            g = result[pos]
            if g is None or meta is None:
                out.append(None)
                continue
            shape = meta[0]
            if tuple(g.shape) != shape:
                from .graph import sum_to_size
                try:
                    g = sum_to_size(g, shape)
                except Exception:
                    g = None
                if g is None or tuple(g.shape) != shape:
                    raise RuntimeError(f"Function {type(self).__name__} returned an invalid "
                                       f"gradient at index {pos} - got {list(result[pos].shape)} "
                                       f"but expected shape compatible with {list(shape)}")
            out.append(g)
        return out

    def _release(self):
        if self.__dict__.get("_saved") is not None:
            self._saved = None
            self._freed = True


class FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_cls": cls})


class Function(FunctionCtx, metaclass=FunctionMeta):
    """Base class for custom autograd operations (torch.autograd.Function)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor
        node = cls._backward_cls()
        tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        node.needs_input_grad = needs
        node._n_args = len(args)
        node._tensor_positions = tensor_positions
        uses_setup = cls.setup_context is not Function.setup_context
        with grad_mode.no_grad():
            if uses_setup:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, outputs)
            else:
                outputs = cls.forward(node, *args, **kwargs)
        if _forward_levels and cls.jvp is not Function.jvp:
            from .forward_ad import custom_function_jvp
            duals = custom_function_jvp(cls, node, args, outputs)
            if duals is not None:
                return duals
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        record = grad_mode.is_grad_enabled() and any(needs)
        to_save = node.__dict__.pop("_to_save", None)
        if not record:
            return outputs
        node.next_functions = tuple(edge_of(args[i]) for i in tensor_positions)
        node._input_meta = [(args[i]._data.shape, args[i]._data.dtype)
                            if args[i]._requires_grad else None for i in tensor_positions]
        dirty = {id(t) for t in node._dirty}
        for t in node._dirty:
            if t._requires_grad and t._grad_fn is None and \
                    (t._base is None or not t._base._requires_grad):
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
            if t._base is not None and t._base._requires_grad and t._base._grad_fn is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                                   "in an in-place operation.")
        non_diff = {id(t) for t in node._non_differentiable}
        input_ids = {id(args[i]) for i in tensor_positions}
        new_outs = []
        metas = []
        nr = 0
        for o in outs:
            if not isinstance(o, Tensor):
                # Non-tensor outputs still count as outputs: backward gets None for them.
                new_outs.append(o)
                metas.append(None)
                nr += 1
                continue
            if id(o) in input_ids and id(o) not in dirty:
                o = _alias(o)  # an input returned unchanged becomes a new output tensor
            if id(o) in dirty:
                o._vc[0] += 1
            metas.append((o._data.shape, o.dtype, o.device))
            if id(o) not in non_diff and o.dtype.category >= 2:
                if id(o) in dirty:
                    # The one in-place mechanism's rebase: through a view, the base's history
                    # continues through node too (CopySlices), as for every in-place op.
                    from .._ops.inplace import rebase_history
                    rebase_history(o, node, nr)
                else:
                    o._grad_fn = node
                    o._output_nr = nr
                    o._requires_grad = True
            nr += 1
            new_outs.append(o)
        node._num_outputs = nr
        node._output_meta = metas
        if to_save is not None:
            node._saved, node._saved_versions = _save(node, to_save, outputs=True)
        if grad_mode._anomaly.enabled:
            from .anomaly_mode import record_forward_trace
            record_forward_trace(node)
        return tuple(new_outs) if is_tuple else new_outs[0]


def _alias(t):
    from .._tensor import _make
    a = _make(t._data)
    a._vc = t._vc
    return a


_TWICE_MSG = "trying to differentiate twice a function that was marked with @once_differentiable"


class Error(Node):
    """Stands in for a once-differentiable backward in a graph built with create_graph:
    differentiating through it raises."""

    def __init__(self, next_functions):
        self.next_functions = next_functions

    def name(self):
        return "torch::autograd::Error"

    def apply(self, grads):
        raise RuntimeError(_TWICE_MSG)

    def _release(self):
        pass


def once_differentiable(fn):
    """Run ``backward`` without building a graph (it cannot be differentiated again).

    Under create_graph, its results depend on the incoming gradients through an
    ``Error`` node, so a second differentiation fails loudly instead of silently
    giving zero.
    """
    import functools
    from .._tensor import Tensor

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.is_grad_enabled():
            return outputs
        needing = [a for a in args if isinstance(a, Tensor) and a._requires_grad]
        if not needing:
            return outputs
        node = Error(tuple(edge_of(a) for a in needing))
        single = not isinstance(outputs, tuple)
        wrapped = []
        for o in ((outputs,) if single else outputs):
            if isinstance(o, Tensor) and o._data.dtype.kind in "fc":
                o = o.detach()
                o._grad_fn = node
                o._requires_grad = True
            wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)
    return wrapper
