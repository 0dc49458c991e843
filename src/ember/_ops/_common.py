"""Helpers the op families share: dtype names in torch's messages, the half-precision
overflow check, complex-refusing and float32-widening forward wrappers, the ``out=``
keyword and the generated function of a plain unary op."""
import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from .registry import apply


def dtype_name(a):
    """torch's name of an array's dtype in error messages ('Float', 'ComplexDouble', ...)."""
    return D.NP_TO_DTYPE[a.dtype]._legacy


def check_half_range(value, npd):
    """torch's error for a Python number that a float16/bfloat16 (``npd``) op converts to
    the tensor's dtype with an overflow check (pow's exponent, clamp's bounds, alpha)."""
    import ml_dtypes
    if abs(value) > float(ml_dtypes.finfo(npd).max) and abs(value) != float("inf"):
        name = "c10::Half" if npd == np.float16 else "c10::BFloat16"
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def real_only(fwd, kernel=None, *, message=None, error=NotImplementedError, suffix="_cpu"):
    """Wrap the forward of an op torch has no complex kernel for, to raise torch's error:
    ``"<kernel>_cpu" not implemented for 'ComplexFloat'`` or the given ``message``."""
    def f(*args, **kw):
        for a in args:
            d = getattr(a, "dtype", None)
            if d is not None and d.kind == "c":
                raise error(message if message is not None else
                            f"\"{kernel}{suffix}\" not implemented for '{dtype_name(a)}'")
        return fwd(*args, **kw)
    f.__name__ = getattr(fwd, "__name__", "forward")
    return f


def in_float32(fwd):
    """For float16/bfloat16 arrays, run a multi-step forward in float32 and round the result
    once, as torch's kernels do (step-by-step half arithmetic drifts; NumPy would also
    widen bfloat16 meeting a Python float to float32)."""
    def f(a, *args, **kw):
        d = getattr(a, "dtype", None)
        if d is None or d.itemsize != 2 or d.kind not in "fV":
            return fwd(a, *args, **kw)
        f32 = np.float32
        args = [x.astype(f32) if getattr(x, "dtype", None) == d else x for x in args]
        out = fwd(a.astype(f32), *args, **kw)
        return out.astype(d) if out.dtype == f32 else out
    f.__name__ = getattr(fwd, "__name__", "forward")
    return f


def _conj(x):
    """The conjugate of a complex tensor or number, anything else as it is (backwards use
    it for torch's convention ``g * conj(f'(x))``)."""
    if isinstance(x, Tensor):
        return x.conj() if x._data.dtype.kind == "c" else x
    return x.conjugate() if type(x) is complex else x


def _out(result, out, name=None):
    """Honour ``out=``: write the result into ``out`` (resized as torch does)."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if (out._requires_grad and out._grad_fn is None) or result._requires_grad:
        from ..autograd import grad_mode
        if grad_mode.is_grad_enabled():
            if name is None:
                node = result._grad_fn
                name = node.op.name if node is not None and hasattr(node, "op") else "op"
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires grad.")
    if out._data.shape != result._data.shape:
        out._data = result._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = result._data
    out._vc[0] += 1
    return out


def with_out(fn):
    """Give ``fn`` torch's ``out=`` keyword: one tensor, or a tuple for (values, indices)."""
    name = fn.__name__

    def f(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        if out is None:
            return result
        if isinstance(result, tuple):
            if not isinstance(out, (tuple, list)) or len(out) != len(result):
                raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors")
            for r, o in zip(result, out):
                _out(r, o, name)
            return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
        return _out(result, out, name)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = fn.__doc__
    f.__wrapped__ = fn
    return f


def op_function(op, name, nargs=1):
    """The public function of an op without params: ``name(input[, other], *, out=None)``."""
    if nargs == 1:
        def f(input, *, out=None):
            r = apply(op, (input,))
            return r if out is None else _out(r, out)
        f.__doc__ = f"{name}(input, *, out=None) -> Tensor  (elementwise, as torch.{name})"
    else:
        def f(input, other, *, out=None):
            r = apply(op, (input, other))
            return r if out is None else _out(r, out)
    f.__name__ = f.__qualname__ = name
    return f
