"""class Tensor: an array of the device's array module plus autograd metadata.

The array (``_data``) is a NumPy or CuPy ndarray; views share it, as torch's views
share storage.  Ops and operators are attached by ``ember._ops`` from the op
registry, so this file holds only what is not an op: metadata, conversions and the
autograd-facing API.
"""
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from . import _dtype as D
from ._device import (CPU, as_device, data_ptr, device_of, device_scope, resolve,
                      to_device_array)
from ._device import device as _device_type
from .utils.hooks import add_hook

_new = object.__new__
_tuple_new = tuple.__new__   # builds a Size from ints we trust, skipping validation


class Size(tuple):
    """torch.Size: a tuple of ints that prints as ``torch.Size([2, 3])``."""

    def __new__(cls, sizes=()):
        out = []
        for i, s in enumerate(sizes):
            if type(s) is not int:
                try:  # ints, NumPy integers and one-element integer tensors
                    s = s.__index__()
                except (AttributeError, TypeError):
                    raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is "
                                    f"'{type(s).__name__}')") from None
            out.append(s)
        return tuple.__new__(cls, out)

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return _tuple_new(Size, out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


def _make(data):
    """Wrap an array as a Tensor without copying (the hot path: no checks)."""
    t = _new(Tensor)
    t._data = data
    t._vc = [0]
    return t


_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


class Tensor:
    """A multi-dimensional array with autograd.

    ``ember.Tensor(data)`` and ``ember.Tensor(2, 3)`` are the legacy constructors
    (default dtype); prefer ``ember.tensor``.
    """

    # Class-level defaults keep tensor creation to two attribute stores.
    _requires_grad = False
    _grad_fn = None
    _output_nr = 0
    _grad = None
    _base = None
    _accumulator = None       # weakref to this leaf's AccumulateGrad node
    _post_acc_hooks = None
    _retains_grad = False
    _is_param = False
    __array_priority__ = 1000  # make ndarray <op> Tensor defer to Tensor

    def __new__(cls, *args, **kwargs):
        from ._creation import legacy_new
        return legacy_new(cls, D.get_default_dtype(), args, kwargs)

    # ---- metadata -------------------------------------------------------------------
    @property
    def shape(self):
        return _tuple_new(Size, self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return _tuple_new(Size, self._data.shape)
        dim = _dim_arg(dim, "size")
        if not self._data.ndim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self):
        return D.NP_TO_DTYPE[self._data.dtype]

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    def get_device(self):
        """The CUDA device index, or -1 for a CPU tensor."""
        d = device_of(self._data)
        return -1 if d.type == "cpu" else d.index

    # Ember tensors are always dense, unquantized and hold real memory.
    is_sparse = False
    is_quantized = False
    is_meta = False

    @property
    def layout(self):
        from ._layout import strided
        return strided

    def element_size(self):
        return self._data.itemsize

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return self.dtype.is_complex

    def stride(self, dim=None):
        a = self._data
        if a.size == 0:  # NumPy may report zero strides for empty arrays; torch is contiguous
            strides, n = [], 1
            for s in reversed(a.shape):
                strides.append(n)
                n *= max(s, 1)
            strides = tuple(reversed(strides))
        else:
            item = a.itemsize
            strides = tuple(s // item for s in a.strides)
        if dim is None:
            return strides
        dim = _dim_arg(dim, "stride")
        if not a.ndim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return strides[_wrap_dim(dim, a.ndim)]

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self):
        return 0 if self._data.size == 0 else int(data_ptr(self._data))

    @property
    def _version(self):
        return self._vc[0]

    @property
    def T(self):
        if self._data.ndim != 2:
            warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                          "shape is deprecated and it will throw an error in a future release. "
                          "Consider `x.mT` to transpose batches of matrices or "
                          "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the "
                          "dimensions of a tensor.", UserWarning, stacklevel=2)
        return self.permute(*range(self._data.ndim - 1, -1, -1))

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T.conj() if self.is_complex() else self.T

    @property
    def mH(self):
        return self.mT.conj() if self.is_complex() else self.mT

    # ---- autograd-facing API --------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return self
        if requires_grad and self._data.dtype.kind not in "fcV":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad_fn(self):
        return self._grad_fn

    def is_inference(self):
        """True for tensors made under ``inference_mode`` (they never enter autograd)."""
        return self.__dict__.get("_inference", False)

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def output_nr(self):
        """Which output of its ``grad_fn`` this tensor is (0 for leaves), as torch."""
        return self._output_nr

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value.shape != self._data.shape:   # .shape: a sparse grad has no dense _data
                raise RuntimeError("assigned grad has data of a different size")
            if value.device != self.device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        t = _make(self._data)
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data = value._data

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        node = self._grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        A non-None return value replaces the gradient.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.graph import grad_accumulator
        if self._grad_fn is not None:
            return self._grad_fn._add_tensor_hook(self._output_nr, hook)
        # The accumulator keeps a leaf's hooks on the leaf itself (no tensor<->node cycle).
        return grad_accumulator(self)._add_tensor_hook(0, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = OrderedDict()
        return add_hook(self._post_acc_hooks, hook)

    def detach(self):
        t = _make(self._data)
        t._vc = self._vc   # a detached tensor shares storage, so it shares the version
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. graph leaves (see autograd.backward)."""
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---- conversions ----------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item() if isinstance(self._data, np.ndarray) \
            else self._data.reshape(()).get().item()

    def tolist(self):
        return _host(self._data).tolist()

    def numpy(self, *, force=False):
        if force:
            return _host(self._data.copy() if isinstance(self._data, np.ndarray) else self._data)
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if not isinstance(self._data, np.ndarray):
            raise _not_on_host(self)
        return self._data

    def __array__(self, dtype=None, copy=None):
        if not isinstance(self._data, np.ndarray):   # torch's __array__ is numpy()'s
            raise _not_on_host(self)
        arr = self._data
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def to(self, *args, **kwargs):
        """to(dtype) / to(device) / to(device, dtype) / to(other), with copy= and non_blocking=."""
        dtype, dev, copy = _parse_to(self, args, kwargs)
        out = self
        # the cast first, on the source device, so the copy lands on ``dev`` as the last step
        if dtype is not None and dtype is not out.dtype:
            from ._ops.conversion import to_dtype
            out = to_dtype(out, dtype)
        if dev is not None and dev != out.device:
            from ._ops.conversion import to_device
            out = to_device(out, dev)
        if copy and out is self:
            out = self.clone()
        return out

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None:
            prefix = "torch." if self.device.type == "cpu" else "torch.cuda."
            return prefix + self.dtype._legacy + "Tensor"
        if isinstance(dtype, str):
            from ._creation import legacy_type_from_name
            if dtype.startswith("torch.cuda."):  # the legacy name also names the device
                try:
                    d = legacy_type_from_name("torch." + dtype[11:])
                except ValueError:
                    raise ValueError(f"invalid type: '{dtype}'") from None
                return self.to("cuda", d)
            dtype = legacy_type_from_name(dtype)
        elif isinstance(dtype, type) and hasattr(dtype, "_ember_dtype"):
            dtype = dtype._ember_dtype
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self, memory_format=None):
        return self.to(D.float32)

    def double(self, memory_format=None):
        return self.to(D.float64)

    def half(self, memory_format=None):
        return self.to(D.float16)

    def bfloat16(self, memory_format=None):
        return self.to(D.bfloat16)

    def long(self, memory_format=None):
        return self.to(D.int64)

    def int(self, memory_format=None):
        return self.to(D.int32)

    def short(self, memory_format=None):
        return self.to(D.int16)

    def char(self, memory_format=None):
        return self.to(D.int8)

    def byte(self, memory_format=None):
        return self.to(D.uint8)

    def bool(self, memory_format=None):
        return self.to(D.bool)

    def cfloat(self, memory_format=None):
        return self.to(D.complex64)

    def cdouble(self, memory_format=None):
        return self.to(D.complex128)

    # ---- new_* factories: this tensor's dtype and device unless told otherwise -------
    def new(self, *args, **kwargs):
        """The legacy ``x.new(...)``: as ``Tensor(...)`` with x's dtype and device."""
        from ._creation import legacy_new
        kwargs.setdefault("device", self.device)
        return legacy_new(Tensor, self.dtype, args, kwargs, generic=False)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False,
                   layout=None, pin_memory=False):
        from ._creation import tensor
        import warnings as _w
        with _w.catch_warnings():  # torch warns on new_tensor(tensor) as on tensor(tensor)
            _w.simplefilter("ignore")
            return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                          requires_grad=requires_grad)

    def _new_factory(self, name, size, kwargs, *fill):
        from . import _creation as C
        kwargs.setdefault("dtype", self.dtype)
        if kwargs.get("device") is None:
            kwargs["device"] = self.device
        if name == "full":
            return C.full(tuple(size), *fill, **kwargs)
        return getattr(C, name)(*size, **kwargs)

    def new_zeros(self, *args, size=None, **kwargs):
        return self._new_factory("zeros", args if size is None else (size,), kwargs)

    def new_ones(self, *args, size=None, **kwargs):
        return self._new_factory("ones", args if size is None else (size,), kwargs)

    def new_empty(self, *args, size=None, **kwargs):
        return self._new_factory("empty", args if size is None else (size,), kwargs)

    def new_full(self, size, fill_value, **kwargs):
        return self._new_factory("full", size, kwargs, fill_value)

    def cpu(self, memory_format=None):
        return self.to(CPU)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        if isinstance(device, int) and not isinstance(device, bool):
            device = _device_type("cuda", device)
        else:
            device = as_device(device if device is not None else "cuda")
            if device.type != "cuda":
                raise RuntimeError("Invalid device, must be cuda device")
        return self.to(device, non_blocking=non_blocking)

    # ---- pinned (page-locked) host memory ---------------------------------------------
    # Ember's host memory is NumPy's, so a pinned tensor is a host copy whose memory is
    # marked as pinned: what code that pins (DataLoader(pin_memory=True),
    # x.pin_memory().to('cuda', non_blocking=True)) observes, without the asynchronous copy
    # it buys on a GPU.  As in torch the mark belongs to the memory: views and detached
    # tensors of a pinned tensor are pinned too.
    def is_pinned(self, device=None):
        owner = _memory_owner(self._data)
        return owner is not None and _PINNED.get(id(owner)) is owner

    def pin_memory(self, device=None):
        if self.is_pinned():
            return self
        return _pinned_copy(self)

    # ---- Python protocol ------------------------------------------------------------
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def _scalar_check(self, what):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")

    def __bool__(self):
        n = self._data.size
        if n != 1:
            raise RuntimeError(f"Boolean value of Tensor with "
                               f"{'no values' if n == 0 else 'more than one value'} is ambiguous")
        return bool(self.item())

    def __float__(self):
        self._scalar_check("float")
        return float(self.item())

    def __int__(self):
        self._scalar_check("int")
        return int(self.item())

    def __complex__(self):
        self._scalar_check("complex")
        return complex(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, proto):
        return (_rebuild, (_host(self._data), self._requires_grad, self.device))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.  If you were attempting to "
                               "deepcopy a module, this may be because of a torch.nn.utils."
                               "weight_norm usage, see https://github.com/pytorch/pytorch/pull/"
                               "103001")
        new = _new(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items()
                             if k not in ("_data", "_vc", "_grad", "_accumulator", "_views")})
        with device_scope(self.device):   # CuPy copies onto the current device
            new._data = self._data.copy()
        new._vc = [0]
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            import copy
            new._grad = copy.deepcopy(self._grad, memo)
        memo[id(self)] = new
        return new


def _sampler(name):
    """Tensor.<name>: the in-place sampler of the same name in ember._random."""
    def method(self, *args, **kwargs):
        from . import _random
        return getattr(_random, name)(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


for _name in ("uniform_", "normal_", "random_", "bernoulli_", "exponential_", "geometric_",
              "log_normal_", "cauchy_"):
    setattr(Tensor, _name, _sampler(_name))
del _name


def _not_on_host(t):
    return TypeError(f"can't convert {t.device} device type tensor to numpy. Use "
                     "Tensor.cpu() to copy the tensor to host memory first.")


# the arrays owning pinned memory, by id (NumPy arrays cannot be hashed)
_PINNED = weakref.WeakValueDictionary()


def _memory_owner(a):
    """The host array that owns ``a``'s memory (None for a device array)."""
    if not isinstance(a, np.ndarray):
        return None
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def mark_pinned(t):
    owner = _memory_owner(t._data)
    if owner is not None:
        _PINNED[id(owner)] = owner
    return t


def _pinned_copy(t):
    from .cuda import is_available
    if not isinstance(t._data, np.ndarray):
        raise RuntimeError(f"cannot pin '{t.type()}' only dense CPU tensors can be pinned")
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return mark_pinned(t.clone())


def _host(a):
    return a if isinstance(a, np.ndarray) else a.get()


def _rebuild(data, requires_grad, dev):
    t = _make(to_device_array(np.array(data), dev) if dev.type != "cpu" else np.array(data))
    t._requires_grad = requires_grad
    return t


def _dim_arg(dim, name):
    if type(dim) is int:
        return dim
    if isinstance(dim, bool) or not hasattr(dim, "__index__"):
        raise TypeError(f"{name}(): argument 'dim' (position 1) must be int, not "
                        f"{type(dim).__name__}")
    return dim.__index__()


def _wrap_dim(dim, ndim):
    """Normalise a possibly negative dim, with torch's IndexError when out of range."""
    if not isinstance(dim, (int, np.integer)):
        dim = dim.__index__()
    lo, hi = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)
    if dim < lo or dim > hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                         f"but got {dim})")
    return dim + ndim if dim < 0 else (0 if ndim == 0 else dim)


def _parse_to(self, args, kwargs):
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments - got unexpected "
                        f"keyword arguments {', '.join(kwargs)}")
    flags = []   # positional (non_blocking, copy) after the dtype, as torch's overloads
    for a in args:
        if isinstance(a, bool):
            flags.append(a)
        elif isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, int)) or hasattr(a, "type") and hasattr(a, "index"):
            dev = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    if len(flags) > 1:
        copy = flags[1]
    return dtype, resolve(as_device(dev)), copy
