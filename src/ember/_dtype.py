"""dtypes, the default dtype, and PyTorch's type-promotion rules.

Ember follows torch, not NumPy: categories (bool < integer < floating < complex)
decide first; within a category, tensors with dimensions outrank 0-dim tensors,
which outrank Python scalars.  Python floats take the default dtype.
"""
import sys
import threading

import numpy as np

__all__ = [
    "dtype", "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
    "uint8", "int8", "int16", "int32", "int64", "bool",
    "half", "float", "double", "cfloat", "cdouble", "short", "int", "long",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast",
]

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type; compares by identity, as torch.dtype does."""

    __slots__ = ("name", "np", "itemsize", "category", "is_signed", "_legacy", "_rank")

    def __init__(self, name, np_dtype, category, is_signed, legacy, rank):
        self.name = name
        self.np = np_dtype
        self.itemsize = np_dtype.itemsize if np_dtype is not None else 2
        self.category = category
        self.is_signed = is_signed
        self._legacy = legacy      # the name torch's legacy tensor types use (Float, Long, ...)
        self._rank = rank          # order inside the category, for promotion

    @property
    def is_floating_point(self):
        return self.category == _FLOAT

    @property
    def is_complex(self):
        return self.category == _COMPLEX

    def to_real(self):
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self):
        return {float64: complex128, complex128: complex128}.get(self, complex64)

    def __repr__(self):
        # Printed as torch prints it, so that output is interchangeable with torch's.
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


def _dtype_by_name(name):
    return _BY_NAME[name]


class _LazyBFloat16(dtype):
    """bfloat16 until its NumPy dtype is first needed: that comes from ml_dtypes, whose
    import takes half a second, so ``import ember`` leaves it for the first bfloat16 tensor
    (or finfo).  On first ``.np`` the object becomes a plain ``dtype`` (``__class__`` is
    reassigned), so afterwards reading ``bfloat16.np`` is an ordinary slot read."""

    __slots__ = ()

    @property
    def np(self):
        return _load_bfloat16()


def _load_bfloat16():
    import ml_dtypes
    npd = np.dtype(ml_dtypes.bfloat16)
    bf16 = bfloat16
    if type(bf16) is _LazyBFloat16:
        bf16.__class__ = dtype
        bf16.np = npd
        NP_TO_DTYPE[npd] = bf16
    return npd


bool = dtype("bool", np.dtype(np.bool_), _BOOL, False, "Bool", 0)
uint8 = dtype("uint8", np.dtype(np.uint8), _INT, False, "Byte", 1)
int8 = dtype("int8", np.dtype(np.int8), _INT, True, "Char", 1)
int16 = dtype("int16", np.dtype(np.int16), _INT, True, "Short", 2)
int32 = dtype("int32", np.dtype(np.int32), _INT, True, "Int", 3)
int64 = dtype("int64", np.dtype(np.int64), _INT, True, "Long", 4)
float16 = dtype("float16", np.dtype(np.float16), _FLOAT, True, "Half", 1)
bfloat16 = dtype("bfloat16", None, _FLOAT, True, "BFloat16", 1)
bfloat16.__class__ = _LazyBFloat16
float32 = dtype("float32", np.dtype(np.float32), _FLOAT, True, "Float", 2)
float64 = dtype("float64", np.dtype(np.float64), _FLOAT, True, "Double", 3)
complex64 = dtype("complex64", np.dtype(np.complex64), _COMPLEX, True, "ComplexFloat", 2)
complex128 = dtype("complex128", np.dtype(np.complex128), _COMPLEX, True, "ComplexDouble", 3)

half, float, double = float16, float32, float64
cfloat, cdouble = complex64, complex128
short, int, long = int16, int32, int64

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
# NumPy dtype -> Ember dtype; the lookup every tensor's .dtype goes through.  bfloat16's
# entry is added when ml_dtypes is loaded (``_load_bfloat16``): no array can have that
# dtype before.
NP_TO_DTYPE = {d.np: d for d in ALL_DTYPES if d is not bfloat16}

_state = threading.local()
_DEFAULT = [float32]  # torch's default dtype is process-global, not thread-local


def get_default_dtype():
    """The dtype Python floats and float factories get (float32 unless changed)."""
    return _DEFAULT[0]


def set_default_dtype(d):
    if not isinstance(d, dtype) or d.category != _FLOAT:
        raise TypeError("only floating-point types are supported as the default type")
    _DEFAULT[0] = d


def default_complex_dtype():
    return complex128 if _DEFAULT[0] is float64 else complex64


def from_numpy_dtype(npd):
    try:
        return NP_TO_DTYPE[npd]
    except KeyError:
        # An ml_dtypes bfloat16 array made outside Ember, before Ember loaded ml_dtypes.
        if "ml_dtypes" in sys.modules and npd == sys.modules["ml_dtypes"].bfloat16:
            _load_bfloat16()
            return bfloat16
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{npd.type.__name__}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            "uint8, and bool.") from None


def promote_types(type1, type2):
    """The smallest dtype both can be cast to, by torch's table (not NumPy's)."""
    if type1 is type2:
        return type1
    c1, c2 = type1.category, type2.category
    if c1 < c2 or (c1 == c2 and type1._rank < type2._rank):
        type1, type2, c1, c2 = type2, type1, c2, c1
    # now type1 is the "higher" one
    if c2 == _BOOL:
        return type1
    if c1 == _COMPLEX:
        if c2 == _FLOAT and type2 is float64:
            return complex128
        return type1
    if c1 == _FLOAT:
        if c2 == _FLOAT and type1._rank == type2._rank:  # float16 with bfloat16
            return float32
        return type1
    # both integral
    if type2 is uint8 or type1 is uint8:
        other = type1 if type2 is uint8 else type2
        return int16 if other is int8 else other
    return type1


def _combine(higher, lower):
    """Combine two promotion states where `higher` has priority (torch's rule)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == _COMPLEX:
        return higher
    if lower.category == _COMPLEX:
        return higher.to_complex() if higher.category == _FLOAT else lower
    if higher.category == _FLOAT:
        return higher
    if higher is bool or lower.category == _FLOAT:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value):
    """The dtype torch gives a Python scalar that takes part in an op."""
    t = type(value)
    if t is builtins_bool or isinstance(value, (np.bool_,)):
        return bool
    if isinstance(value, (builtins_int, np.integer)):
        return int64
    if isinstance(value, (builtins_float, np.floating)):
        return _DEFAULT[0]
    if isinstance(value, (builtins_complex, np.complexfloating)):
        return default_complex_dtype()
    raise TypeError(f"unsupported scalar type {t.__name__}")


import builtins as _builtins  # noqa: E402  (names above shadow bool/int/float)

builtins_bool, builtins_int = _builtins.bool, _builtins.int
builtins_float, builtins_complex = _builtins.float, _builtins.complex


def result_type_of(operands):
    """torch.result_type over tensors and Python scalars."""
    dim_result = zero_result = wrapped = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x._data.ndim:
                dim_result = d if dim_result is None else promote_types(dim_result, d)
            else:
                zero_result = d if zero_result is None else promote_types(zero_result, d)
        elif x is not None:
            s = scalar_dtype(x)
            wrapped = s if wrapped is None else promote_types(wrapped, s)
    return _combine(dim_result, _combine(zero_result, wrapped))


def result_type(tensor, other):
    return result_type_of((tensor, other))


def can_cast(from_, to):
    """torch.can_cast: no complex->real, float->integral or non-bool->bool casts."""
    if from_.category > to.category:
        return False
    return True


class finfo:
    """torch.finfo: machine limits of a floating (or complex: its real part) dtype."""

    def __init__(self, type=None):
        d = _DEFAULT[0] if type is None else type
        if not isinstance(d, dtype) or d.category < _FLOAT:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        d = d.to_real()
        if d is bfloat16:
            import ml_dtypes
            info = ml_dtypes.finfo(d.np)
        else:
            info = np.finfo(d.np)
        self.bits = info.bits
        self.eps = builtins_float(info.eps)
        self.max = builtins_float(info.max)
        self.min = builtins_float(info.min)
        self.tiny = self.smallest_normal = builtins_float(info.tiny)
        self.resolution = 10.0 ** -info.precision
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo: the range of an integer dtype."""

    def __init__(self, type):
        if type is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if not isinstance(type, dtype) or type.category != _INT:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo "
                            "to handle 'torch.iinfo'")
        info = np.iinfo(type.np)
        self.bits = info.bits
        self.min = builtins_int(info.min)
        self.max = builtins_int(info.max)
        self.dtype = type.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
