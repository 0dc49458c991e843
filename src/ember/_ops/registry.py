"""The op registry: every op is one ``Op`` entry with its forward and backward.

- ``forward(*arrays, **params)`` runs on raw arrays of the tensors' array module
  (NumPy or CuPy) and returns an array (or a tuple of arrays for ``nout > 1``).
- ``backward(ctx, *grads)`` is written in Ember ops, so it is itself
  differentiable (double backward for free).  ``ctx`` is the graph node: it gives
  ``ctx.saved`` (the inputs listed in ``save``), ``ctx.result`` (the output, if
  ``save_result``), ``ctx.needs_input_grad`` and the op's params as attributes.
  It returns one gradient per positional input (None where not needed).

``apply`` is the single dispatch path: dtype promotion (``promote`` rule), the
forward, wrapping, and recording the graph node.  Reducing a broadcast gradient
back to an input's shape, and casting it back to the input's dtype, happens in
one place: ``OpNode.apply``.
"""
import functools
import threading

import numpy as np

from .. import _dtype as D
from .._device import array_module, is_array, on_array_device
from .._tensor import Tensor, _make
from ..autograd import grad_mode
from ..autograd.graph import Node, grad_accumulator, sum_to_size
from ..autograd.saved import (save as _save, save_result as _save_result, unpack as _unpack,
                              unpack_result as _unpack_result)

REGISTRY = {}
_EMPTY = {}
_state = grad_mode._state
_inference_used = grad_mode._inference_used
_saved_hooks_used = grad_mode._saved_hooks_used
_anomaly = grad_mode._anomaly
_NP2D = D.NP_TO_DTYPE
_generic = np.generic
_ndarray = np.ndarray
_new = object.__new__
_F16 = np.dtype(np.float16)


# How many (thread, hook) slots of ``_autocast`` are set, over all threads: apply reads the
# thread's hooks only when some are, as a thread-local read costs as much as a third of a
# small op's dispatch.
_watched = [0]
_watched_lock = threading.Lock()


class _AutocastHook(threading.local):
    # ember.amp sets ``cast`` on this thread while an autocast region is active (the op
    # table's tracer sets it too, to see every op run); apply calls ``cast(op, inputs)``
    # and autocast_entry ``cast(category, args)``.
    cast = None
    # ``around(op, inputs, params, run)`` replaces the call to ``run(op, inputs, params)``
    # (the plain dispatch) while set: the profiler times each op through it and
    # ember.compile records the ops a call runs.  Whoever sets it chains to the one it
    # found (see ``push_around``), so both can be active at once.
    around = None

    def __setattr__(self, name, value):
        # Every setter (ember.amp, push_around, the op table's tracer) keeps the count.
        with _watched_lock:
            was_set = getattr(self, name, None) is not None
            super().__setattr__(name, value)
            _watched[0] += (value is not None) - was_set


_autocast = _AutocastHook()


# The autocast categories, torch's CPU lists: an op declares its own (``defop(...,
# autocast="lower")``); ``autocast_entry`` takes the same names.
AUTOCAST_LOWER = "lower"
AUTOCAST_FP32 = "fp32"
_AUTOCAST_KINDS = (None, AUTOCAST_LOWER, AUTOCAST_FP32)


def autocast_entry(kind):
    """Decorate a composite function that torch autocasts as one op (linear, addmm,
    mse_loss, ...): inside an autocast region its tensor arguments are cast on entry, so
    the ops it is made of all see the autocast dtype.  Outside, it costs one read.
    ``kind`` is an autocast category, ``"lower"`` or ``"fp32"``."""
    if kind not in _AUTOCAST_KINDS[1:]:
        raise ValueError(f"autocast_entry takes 'lower' or 'fp32', not {kind!r}")

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            cast = _autocast.cast if _watched[0] else None
            if cast is not None:
                args = tuple(cast(kind, args))
                if kwargs:
                    kwargs = dict(zip(kwargs, cast(kind, tuple(kwargs.values()))))
            return fn(*args, **kwargs)
        return wrapper
    return decorate

CPU_SCALAR = "cpu_scalar"  # an ``opmath`` level: see Op.__init__

# dtype rules -----------------------------------------------------------------------
SAME = None          # forward sees the arrays as they are (shape ops, neg, abs, ...)
PROMOTE = 1          # torch.result_type over the inputs; tensors are cast to it
PROMOTE_FLOAT = 2    # as PROMOTE, then integral results go to the default float dtype
FLOAT = 3            # unary: integral input goes to the default float dtype


class _AllInputs(tuple):
    """``save=ALL_INPUTS``: an op with any number of inputs (einsum) saves them all."""

    def __contains__(self, index):
        return True

    def __bool__(self):
        return True


ALL_INPUTS = _AllInputs()


class Op:
    """One registry entry.  See the module docstring for the contract."""

    __slots__ = ("name", "forward", "backward", "promote", "save", "save_result", "nout",
                 "differentiable", "view", "node_cls", "doc", "opmath", "scalar_checked",
                 "autocast", "_variants", "_save_prefix")

    def __init__(self, name, forward, backward=None, *, promote=SAME, save=(),
                 save_result=False, nout=1, differentiable=True, view=False, node=None,
                 opmath=False, scalar_checked=False, autocast=None):
        self.name = name
        # torch's autocast list the op is on: "lower" (cast float32 inputs down to the
        # region's dtype), "fp32" (cast float16/bfloat16 inputs up) or None.
        if autocast not in _AUTOCAST_KINDS:
            raise ValueError(f"autocast must be one of {_AUTOCAST_KINDS}, not {autocast!r}")
        self.autocast = autocast
        self._variants = {}
        # torch converts some ops' Python scalars (pow's exponent, clamp's bounds) to a
        # float16/bfloat16 tensor's dtype with an overflow check, where add or mul let a
        # too-large scalar give inf; scalar_checked=True marks the former.
        self.scalar_checked = scalar_checked
        # With a bfloat16 tensor and a Python scalar, torch computes some ops (mul, div) in
        # float32 with the scalar unrounded, and others (add, sub) with the scalar rounded
        # to bfloat16 first; opmath=True marks the former, CPU_SCALAR those (mul, div) that
        # also read a 0-dim tensor second operand at its own precision.
        self.opmath = opmath
        self.forward = forward
        self.backward = backward
        self.promote = promote
        self.save = save if save is ALL_INPUTS else tuple(save)
        # save=(0, ..., n-1): an op called with n inputs saves the inputs tuple itself.
        self._save_prefix = len(self.save) if self.save == tuple(range(len(self.save))) else -1
        self.save_result = save_result
        self.nout = nout
        self.differentiable = differentiable and backward is not None
        self.view = view
        node_name = node or "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        self.node_cls = _node_class(node_name, self)

    def variant(self, node, **changes):
        """This op recording the graph node ``node`` (torch names an op's overloads apart:
        ``SumBackward0``/``SumBackward1``, ``TBackward0`` for ``t``/``TBackward1`` for
        ``t_``), optionally with other flags (``scalar_checked=False``).  Created on first
        use and cached here; not a registry entry of its own."""
        key = (node, *sorted(changes.items())) if changes else node
        v = self._variants.get(key)
        if v is None:
            v = self._variants[key] = self._new_variant(node, changes)
        return v

    def _new_variant(self, node, changes):
        v = Op.__new__(Op)
        for slot in Op.__slots__:
            if hasattr(self, slot):
                setattr(v, slot, getattr(self, slot))
        for k, value in changes.items():
            setattr(v, k, value)
        v._variants = {}
        v.node_cls = _node_class(node, v)
        return v

    def __repr__(self):
        return f"<ember op {self.name}>"


def _node_class(name, op):
    return type(name, (OpNode,), {"op": op, "_num_outputs": op.nout, "__slots__": ()})


def defop(name, forward, backward=None, **kw):
    """Register an op (see ``Op``); returns it, for use with ``apply``."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} registered twice")
    op = REGISTRY[name] = Op(name, forward, backward, **kw)
    return op


class OpNode(Node):
    """The graph node of one op application; it is the ``ctx`` of the op's backward."""

    __slots__ = ("next_functions", "needs_input_grad", "_saved", "_versions", "_result",
                 "_result_vc", "_result_version", "_input_meta", "_params", "_output_meta")
    op = None

    def __getattr__(self, name):
        # Op params (dim, keepdim, ...) read as ctx.<name>.
        if not name.startswith("_"):
            try:
                return self._params[name]
            except KeyError:
                pass
        elif name.startswith(("_saved_", "_raw_saved_")):  # torch's names for saved values
            from .saved_names import saved_attribute
            return saved_attribute(self, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def saved(self):
        """The saved inputs (tensors or Python scalars), version-checked."""
        return _unpack(self, self._saved, self._versions)

    saved_tensors = saved

    result = property(_unpack_result)  # no extra frame: every save_result backward reads it

    def _release(self):
        if self._saved is not None and (self._saved or self._result is not None):
            self._saved = None
            self._result = None

    def apply(self, grads):
        op = self.op
        if op.nout == 1:
            out = op.backward(self, grads[0])
        else:
            grads = [g if g is not None else _zeros_for(meta)
                     for g, meta in zip(grads, self._output_meta)]
            out = op.backward(self, *grads)
        if type(out) is not tuple:
            out = (out,)
        metas = self._input_meta
        res = []
        for g, meta in zip(out, metas):
            if g is not None and meta is not None:
                data = g._data
                if data.shape != meta[0]:
                    g = sum_to_size(g, meta[0])
                    data = g._data
                npd = meta[1]
                dt = data.dtype
                if dt is not npd and dt != npd:
                    if dt.kind == "c" and npd.kind != "c":
                        g = g.real  # a real input's gradient is the real part (torch, silently)
                    g = g.to(_NP2D[npd])
                res.append(g)
            else:
                res.append(None)
        if len(res) < len(metas):
            res += [None] * (len(metas) - len(res))
        return res


def zeros_from_meta(meta, like):
    """Zeros with an input's (shape, dtype) from its meta, on ``like``'s device."""
    from .._device import array_module
    return _make(array_module(like._data).zeros(meta[0], dtype=meta[1]))


def _zeros_for(meta):
    shape, npd, xp = meta
    return _make(xp.zeros(shape, dtype=npd))


def _cast(x, npd):
    return x._data if x._data.dtype == npd else x._data.astype(npd)


def _promoted_arrays(inputs, rule):
    """Arrays for the forward, cast per the op's dtype rule (torch's promotion)."""
    if rule == FLOAT:
        a = inputs[0]._data
        if a.dtype.kind in "biu":
            a = a.astype(D._DEFAULT[0].np)
        return (a,)
    # Fast path, one pass: tensors of one dtype, Python scalars that cannot raise its
    # category (a float scalar with a floating tensor, an int scalar with a non-bool one,
    # bools), all on the host.  The arrays are then the forward's arguments as they are.
    first = None
    float_scalar = int_scalar = False
    arrays = []
    for x in inputs:
        if isinstance(x, Tensor):
            a = x._data
            d = a.dtype
            if first is None:
                first = d
            elif d is not first and d != first:
                break
            if type(a) is not _ndarray:
                break
            arrays.append(a)
        else:
            t = type(x)
            if t is float:
                float_scalar = True
            elif t is int:
                int_scalar = True
            elif t is not bool and x is not None:
                break
            arrays.append(x)
    else:
        if first is not None:
            kind = first.kind
            # Half precision (bfloat16 is kind "V") with a Python number takes the slow path
            # too: it rounds the scalar to the dtype (NumPy would widen bfloat16 to float32)
            # and lets opmath ops see it whole.
            if not (float_scalar and (kind not in "fc" or first is _F16) or
                    int_scalar and (kind in "bV" or first is _F16) or
                    rule == PROMOTE_FLOAT and kind in "biu"):
                return arrays
    return _promoted_slow(inputs, rule)


def _promoted_slow(inputs, rule):
    """``_promoted_arrays`` for mixed dtypes, scalars of a higher category, half precision
    with scalars, and device arrays: torch's result type, every input cast to it."""
    dt = D.result_type_of(inputs)
    if rule == PROMOTE_FLOAT and dt.category < D._FLOAT:
        dt = D._DEFAULT[0]
    npd = dt.np
    out = []
    host = True
    half_scalars = False
    for x in inputs:
        if isinstance(x, Tensor):
            a = x._data
            if type(a) is not _ndarray:
                host = False
            if a.dtype == npd:
                out.append(a)
            else:
                out.append(a.astype(npd))
                # a 0-dim float tensor of another dtype meeting half precision: a CPU scalar
                # that some of torch's kernels read at its own precision (CPU_SCALAR ops)
                if a.ndim == 0 and a.dtype.kind == "f" and (npd.kind == "V" or npd is _F16):
                    half_scalars = True
        elif x is None:
            out.append(x)
        elif npd.kind == "V" or npd is _F16:
            out.append(npd.type(x))
            half_scalars = True
        elif type(x) is not bool and dt.category < D.scalar_dtype(x).category:
            out.append(npd.type(x))  # a scalar of a higher category is cast down to the result
        elif isinstance(x, np.generic):
            # A NumPy scalar counts as a Python number, as in torch; NumPy itself would let
            # np.float64 widen a float32 array.
            out.append(x.item())
        else:
            out.append(x)
    if not host:
        converted = one_device_arrays(inputs, out)
        out = out if converted is None else converted
    if half_scalars:
        # Raised, not returned, so that the common case pays nothing for it in apply.
        raise _HalfWithScalars(out, inputs, npd)
    return out


class _HalfWithScalars(Exception):
    """The forward's arguments when float16/bfloat16 meets Python scalars (rounded to the
    dtype): ``forward_for`` gives the op's forward, or for an ``opmath`` op one that computes
    in float32 with the scalars as given and rounds the result once, as torch."""

    def __init__(self, arrays, inputs, npd):
        super().__init__()
        self.arrays = arrays
        self.inputs = inputs
        self.npd = npd

    def forward_for(self, op):
        if op.scalar_checked:
            self._check_range()
        if not op.opmath:
            return op.forward
        f32 = np.float32
        wide = [a.astype(f32) if is_array(a) and a.dtype == self.npd else
                f32(x) if isinstance(x, (int, float)) and type(x) is not bool else a
                for a, x in zip(self.arrays, self.inputs)]
        npd = self.npd
        if op.opmath == CPU_SCALAR and len(self.inputs) == 2:
            # torch's mul/div kernels take a 0-dim second operand as a scalar at its own
            # precision (``a * tensor(0.37)`` uses 0.37f, not 0.37 rounded to bfloat16)
            other = self.inputs[1]
            if isinstance(other, Tensor) and other._data.ndim == 0 and \
                    other._data.dtype.kind == "f" and other._data.dtype != npd:
                wide[1] = f32(other._data)

        def forward(*_, **params):
            out = op.forward(*wide, **params)
            return out.astype(npd) if out.dtype == f32 else out
        return forward

    def _check_range(self):
        from ._common import check_half_range
        for x in self.inputs:
            if type(x) in (int, float):
                check_half_range(x, self.npd)


def check_same_device(inputs):
    """torch's error for tensors on different devices; 0-dim CPU tensors go with any device
    (torch treats them as scalars).  Returns whether such a CPU scalar met a device tensor."""
    devs = []
    scalars = False
    for x in inputs:
        if isinstance(x, Tensor):
            dev = x.device
            if dev.type == "cpu" and x._data.ndim == 0:
                scalars = True
            elif dev not in devs:
                devs.append(dev)
    if len(devs) > 1:
        # torch's TensorIterator takes an accelerator's device as the common one first
        first = next((d for d in devs if d.type != "cpu"), devs[0])
        other = next(d for d in devs if d != first)
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           f"two devices, {first} and {other}!")
    return scalars and bool(devs) and devs[0].type != "cpu"


def one_device_arrays(inputs, arrays):
    """The forward's arrays with 0-dim CPU tensors (met with device tensors) as scalars,
    after torch's check that all other tensors share one device; None when that changes
    nothing (all on the host, or no CPU scalar to convert)."""
    if all(type(a) is _ndarray or not is_array(a) for a in arrays):
        return None
    if not check_same_device(inputs):
        return None
    return [a[()] if type(a) is _ndarray and a.ndim == 0 else a for a in arrays]


def broadcast_error(inputs):
    """torch's message for shapes that do not broadcast.

    torch broadcasts the shapes left to right, so the message names the first shape
    that fails against the broadcast of all the shapes before it.
    """
    shapes = [x._data.shape for x in inputs if isinstance(x, Tensor)]
    a = shapes[0]
    for b in shapes[1:]:
        n = max(len(a), len(b))
        out = []
        for i in range(1, n + 1):  # torch reports the rightmost mismatch
            sa = a[-i] if i <= len(a) else 1
            sb = b[-i] if i <= len(b) else 1
            if sa != sb and sa != 1 and sb != 1:
                return (f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                        f"non-singleton dimension {n - i}")
            out.append(sb if sa == 1 else sa)
        a = tuple(reversed(out))
    return f"shapes {[list(s) for s in shapes]} cannot be broadcast together"


def push_around(hook):
    """Install ``hook(op, inputs, params, run)`` around every dispatch on this thread;
    it receives as ``run`` the previously installed hook (or the plain dispatch) bound
    so that ``run(op, inputs, params)`` continues the chain.  Returns a function that
    restores the previous state."""
    previous = _autocast.around
    if previous is None:
        inner = _dispatch
    else:
        def inner(op, inputs, params):
            return previous(op, inputs, params, _dispatch)

    def chained(op, inputs, params, _run):
        return hook(op, inputs, params, inner)
    _autocast.around = chained

    def restore():
        _autocast.around = previous
    return restore


def apply(op, inputs, params=_EMPTY, _hooked=False):
    """Run ``op`` on ``inputs`` (tensors and Python scalars) and record the graph."""
    # Every op call runs this: the common case (no hooks, no autocast, one dtype, one
    # output) is written inline, with no helper frames: at 16 elements each frame or
    # thread-local read is a visible share of an op (docs/performance).  ``_hooked``: the
    # call comes from the ``around`` hook chain (``_dispatch``), which must not re-enter it.
    if _watched[0]:
        hooks = _autocast
        if not _hooked:
            around = hooks.around
            if around is not None:
                return around(op, inputs, params, _dispatch)
        cast = hooks.cast
        if cast is not None:
            inputs = cast(op, inputs)
    rule = op.promote
    forward = op.forward
    if rule is None:
        arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    else:
        try:
            arrays = _promoted_arrays(inputs, rule)
        except _HalfWithScalars as half:
            arrays, forward = half.arrays, half.forward_for(op)
    try:
        if not arrays or type(arrays[0]) is _ndarray or not is_array(arrays[0]):
            out = forward(*arrays, **params) if params else forward(*arrays)
        else:
            out = on_array_device(arrays[0], forward, arrays, params)
    except ValueError as e:
        if "broadcast" in str(e):
            raise RuntimeError(broadcast_error(inputs)) from None
        raise
    except OverflowError:
        # A Python int out of the integer dtype's range: torch wraps it around.
        dtype = np.result_type(arrays[0])
        arrays = [np.array(a).astype(dtype)[()] if type(a) is int else a for a in arrays]
        out = forward(*arrays, **params)
    except TypeError:
        # Host and device arrays met (CuPy refuses NumPy arrays): torch's device error, or,
        # for 0-dim CPU tensors, which combine with CUDA tensors, a retry with them as scalars.
        arrays = one_device_arrays(inputs, arrays)
        if arrays is None:
            raise
        out = on_array_device(next(a for a in arrays if is_array(a)), forward, arrays, params)

    record = False
    if _state.enabled:
        if op.differentiable:
            for x in inputs:
                if isinstance(x, Tensor) and x._requires_grad:
                    record = True
                    break
        inference = False
    else:
        inference = _inference_used[0] and _state.inference

    if op.nout == 1:
        if type(out) is not _ndarray and isinstance(out, _generic):
            out = np.asarray(out)
        result = _new(Tensor)  # _make, inlined
        result._data = out
        result._vc = [0]
        if op.view:
            _as_view(result, inputs[0])
        if record:
            node = _record(op, inputs, params)
            if out.dtype.kind in "fcV":
                result._grad_fn = node
                result._requires_grad = True
                if op.save_result:
                    if _saved_hooks_used[0] and _state.saved_hooks:
                        _save_result(node, result)
                    else:  # saved.save_result's common case, inlined (hot path)
                        node._result = out
                        node._result_vc = result._vc
                        node._result_version = 0
        elif inference:
            result._inference = True
        return result

    outs = tuple(_make(np.asarray(o) if isinstance(o, _generic) else o) for o in out)
    if op.view:
        for o in outs:
            _as_view(o, inputs[0])
    if record:
        node = _record(op, inputs, params)
        node._output_meta = [(o._data.shape, o._data.dtype, array_module(o._data)) for o in outs]
        for i, o in enumerate(outs):
            if o._data.dtype.kind in "fcV":
                o._grad_fn = node
                o._output_nr = i
                o._requires_grad = True
    elif inference:
        for o in outs:
            o._inference = True
    return outs


def plain_backward():
    """Whether a backward may compute on arrays directly, as torch's fused ``*_backward``
    kernels do: no graph is being built (backward without ``create_graph``) and no
    ``around`` hook or autocast is watching the ops.  Otherwise backwards run in Ember ops,
    so that they are differentiable and every op is seen."""
    return not _state.enabled and (
        not _watched[0] or _autocast.around is None and _autocast.cast is None)


def array_result(out):
    """An array backward's result as a tensor (NumPy arithmetic on 0-d arrays gives a
    NumPy scalar, which ``apply`` turns back into an array too)."""
    if type(out) is not _ndarray and isinstance(out, _generic):
        out = np.asarray(out)
    return _make(out)


def _dispatch(op, inputs, params=_EMPTY):
    """The plain dispatch, which the ``around`` hooks call to continue (``push_around``)."""
    return apply(op, inputs, params, True)


def _as_view(result, base):
    result._vc = base._vc
    result._base = base._base if base._base is not None else base


_NO_EDGE = (None, 0)


def _record(op, inputs, params):
    node = op.node_cls()
    nexts = []
    needs = []
    metas = []
    for x in inputs:
        if isinstance(x, Tensor) and x._requires_grad:
            fn = x._grad_fn  # edge_of, inlined
            nexts.append((fn, x._output_nr) if fn is not None else (grad_accumulator(x), 0))
            needs.append(True)
            a = x._data
            metas.append((a.shape, a.dtype))
        else:
            nexts.append(_NO_EDGE)
            needs.append(False)
            metas.append(None)
    node.next_functions = tuple(nexts)
    node.needs_input_grad = tuple(needs)
    node._input_meta = metas
    node._params = params
    node._result = None
    save = op.save
    if save:
        # Loops, not comprehensions: a comprehension is one more frame per recorded op.
        if save is ALL_INPUTS or op._save_prefix == len(inputs):
            saved = inputs
        else:
            saved = []
            for i in save:
                saved.append(inputs[i])
        if _inference_used[0] or _saved_hooks_used[0] and _state.saved_hooks:
            node._saved, node._versions = _save(node, saved)
        else:  # saved.save's common case, inlined: every recorded op that saves pays for it
            versions = []
            for x in saved:
                versions.append(x._vc[0] if isinstance(x, Tensor) else None)
            node._saved = tuple(saved)
            node._versions = versions
    else:
        node._saved = ()
        node._versions = ()
    if _anomaly.enabled:
        from ..autograd.anomaly_mode import record_forward_trace
        record_forward_trace(node)
    return node
