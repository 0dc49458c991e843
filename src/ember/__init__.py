"""Ember: PyTorch's API on NumPy (CPU) and CuPy (GPU), with define-by-run autograd.

    import ember as torch
"""
__version__ = "0.1.0"

from . import _malloc  # noqa: F401  (allocator thresholds, before the first big array)
from ._dtype import (bfloat16, bool, cdouble, cfloat, complex64, complex128, double, dtype,
                     float, float16, float32, float64, half, int, int8, int16, int32, int64,
                     long, short, uint8, can_cast, get_default_dtype, promote_types,
                     set_default_dtype, finfo, iinfo)
from ._dtype import result_type as _result_type_pair
from math import e, inf, nan, pi  # torch.e, torch.inf, ... are Python floats too
from ._device import device, get_default_device, set_default_device
from ._memory_format import (channels_last, channels_last_3d, contiguous_format, memory_format,
                             preserve_format)
from ._tensor import Size, Tensor
from . import _ops
from ._ops import *  # noqa: F401,F403  (the op functions: ember.add, ember.exp, ...)
from ._creation import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor,
                        FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor, arange,
                        as_tensor, asarray, empty, empty_like, eye, from_numpy, full, full_like,
                        linspace, logspace, ones, ones_like, scalar_tensor, tensor, zeros,
                        zeros_like)
from ._creation import range  # noqa: A004  (torch.range, deprecated but present)
from ._random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,
                      manual_seed, multinomial, normal, rand, rand_like, randint, randint_like,
                      randn, randn_like, randperm, seed, set_rng_state)
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from . import autograd
from ._tensor_str import set_printoptions, get_printoptions, printoptions


def result_type(tensor, other):  # noqa: F811 (torch's parameter name)
    """torch.result_type(tensor, other): the dtype an op on both would produce."""
    return _result_type_pair(tensor, other)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_complex(input):
    return input.dtype.is_complex


def numel(input):
    return input.numel()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no values' if input.numel() == 0 else 'more than one value'} is ambiguous")
    return bool(input.item())


del _ops
autograd._load_gradcheck()
from ._foreach import FUNCTIONS as _FOREACH  # noqa: E402 (after _ops: the loops call its ops)
globals().update(_FOREACH)
from ._layout import (layout, strided, sparse_coo, sparse_csr, sparse_csc,  # noqa: E402
                      sparse_bsr, sparse_bsc)
from . import sparse  # noqa: E402 (installs Tensor.to_sparse & co. on the dense Tensor)
from .sparse import sparse_coo_tensor  # noqa: E402

# Subpackages load on first use (PEP 562), so `import ember` stays quick; `ember.nn`,
# `ember.optim`, ... then behave as torch's eagerly imported ones do.
_SUBMODULES = ("nn", "optim", "utils", "func", "linalg", "special", "testing", "fft",
               "serialization", "cuda", "backends", "distributions", "amp", "cpu", "jit",
               "compiler", "_dynamo", "_C", "version", "torch_version", "compat",
               "distributed", "random", "profiler")
_LAZY = {"save": "serialization", "load": "serialization",
         "autocast": "amp", "GradScaler": "amp", "is_autocast_enabled": "amp", "get_autocast_dtype": "amp",
         "inference_mode": "autograd", "is_inference_mode_enabled": "autograd",
         "is_anomaly_enabled": "autograd.anomaly_mode",
         "is_anomaly_check_nan_enabled": "autograd.anomaly_mode",
         **{_n: "_runtime" for _n in (
             "set_num_threads", "get_num_threads", "set_num_interop_threads",
             "get_num_interop_threads", "use_deterministic_algorithms",
             "are_deterministic_algorithms_enabled",
             "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
             "get_float32_matmul_precision", "compile")}}


def __getattr__(name):
    import importlib
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
