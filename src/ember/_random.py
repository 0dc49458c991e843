"""Random numbers: Generator objects, the default generator, and random factories.

Ember draws from NumPy's PCG64 (on the host, then moved to the tensor's device),
so streams are reproducible under ``manual_seed`` but are not torch's mt19937 numbers.
"""
import numpy as np

from . import _dtype as D
from ._device import as_device, factory_device, to_device_array
from ._creation import _leaf, _size
from ._tensor import Tensor, _make
from ._ops._common import with_out

_DEFAULT_SEED = 67280421310721  # torch's default seed, so an unseeded run is deterministic too


class Generator:
    """torch.Generator: ``manual_seed``, ``seed``, ``initial_seed``, ``get_state``/``set_state``."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._seed = _DEFAULT_SEED
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < -0x8000_0000_0000_0000 or seed > 0xFFFF_FFFF_FFFF_FFFF:
            raise ValueError("Overflow when unpacking long long")
        seed &= 0xFFFF_FFFF_FFFF_FFFF  # torch reinterprets negative seeds as unsigned
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        st = self._rng.bit_generator.state
        words = [st["state"]["state"], st["state"]["inc"]]
        raw = b"".join(w.to_bytes(16, "little") for w in words)
        raw += int(st["has_uint32"]).to_bytes(4, "little") + int(st["uinteger"]).to_bytes(4, "little")
        raw += int(self._seed).to_bytes(8, "little")
        return _make(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor) or new_state.dtype is not D.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = bytes(np.ascontiguousarray(new_state._data).tobytes())
        if len(raw) != 48:  # PCG64's state, not torch's 5056-byte mt19937 state
            raise RuntimeError("Expected a CPUGeneratorImplState of size 48 but found the "
                               f"input RNG state size to be {len(raw)}")
        bg = np.random.PCG64()
        bg.state = {"bit_generator": "PCG64",
                    "state": {"state": int.from_bytes(raw[0:16], "little"),
                              "inc": int.from_bytes(raw[16:32], "little")},
                    "has_uint32": int.from_bytes(raw[32:36], "little"),
                    "uinteger": int.from_bytes(raw[36:40], "little")}
        self._seed = int.from_bytes(raw[40:48], "little")
        self._rng = np.random.Generator(bg)
        return self

    def __repr__(self):
        return f"<torch._C.Generator object at {id(self):#x}>"


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator; returns it, as torch does."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _rng(generator):
    return (generator or default_generator)._rng


def _shape(size, name):
    return _size(size, name)


def _float_dtype(dtype, kernel):
    d = dtype or D.get_default_dtype()
    if d.category < D._FLOAT:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{d._legacy}'")
    return d


def _finish(arr, dtype, device, requires_grad):
    arr = np.asarray(arr).astype(dtype.np, copy=False)
    dev = factory_device(device)
    if dev is not None and dev.type != "cpu":
        arr = to_device_array(arr, dev)
    return _leaf(arr, requires_grad)


def _gen_dtype(d):
    return np.float64 if d in (D.float64, D.complex128) else np.float32


# Mantissa bits of the half-precision types: uniform draws on a grid of this spacing
# never round up to 1.0 when cast, which float32 draws would.
_HALF_BITS = {"float16": 11, "bfloat16": 8}


def _uniform01(g, shape, d):
    bits = _HALF_BITS.get(d.name)
    if bits is not None:
        return g.integers(0, 1 << bits, size=shape).astype(np.float32) * np.float32(2.0 ** -bits)
    return g.random(shape, dtype=_gen_dtype(d))


@with_out
def rand(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples on [0, 1)."""
    shape = _shape(args if size is None else (size,), "rand")
    d = _float_dtype(dtype, "check_uniform_bounds")
    g = _rng(generator)
    arr = _uniform01(g, shape, d)
    if d.is_complex:
        arr = arr + 1j * _uniform01(g, shape, d)
    return _finish(arr, d, device, requires_grad)


@with_out
def randn(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples."""
    shape = _shape(args if size is None else (size,), "randn")
    d = _float_dtype(dtype, "normal_kernel_cpu")
    g = _rng(generator)
    arr = g.standard_normal(shape, dtype=_gen_dtype(d))
    if d.is_complex:  # torch: real and imaginary parts each have variance 1/2
        arr = (arr + 1j * g.standard_normal(shape, dtype=_gen_dtype(d))) / np.sqrt(2)
    return _finish(arr, d, device, requires_grad)


@with_out
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False):
    """randint(high, size) / randint(low, high, size): integers in [low, high), int64."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() received an invalid combination of arguments - missing "
                            "required argument 'size'")
    if high is None:
        low, high = 0, low
    low, high = int(low), int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    d = dtype or D.int64
    arr = _rng(generator).integers(low, high, size=_shape((tuple(size),), "randint"),
                                   dtype=np.int64)
    return _finish(arr, d, device, requires_grad)


@with_out
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    return _finish(_rng(generator).permutation(n), dtype or D.int64, device, requires_grad)


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, pin_memory=False, memory_format=None):
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, pin_memory=False, memory_format=None):
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, pin_memory=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def _fmt_double(x):
    """A double as C++ streams print it (``-1``, ``-0.5``), as torch's messages show."""
    return f"{x:g}"


@with_out
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False):
    """normal(mean, std[, size]): mean/std may be tensors (broadcast) or floats.

    With tensor arguments the sample is ``mean + std * z``, built from Ember ops, so
    gradients flow to a mean or std that requires them.
    """
    g = _rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        d = _float_dtype(ref.dtype, "normal_kernel_cpu")
        if isinstance(std, Tensor):
            s = std._data
            if bool((s < 0).any()):
                raise RuntimeError("normal expects all elements of std >= 0.0")
        elif std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt_double(std)}")
        shape = np.broadcast_shapes(np.shape(mean._data if isinstance(mean, Tensor) else 0),
                                    np.shape(std._data if isinstance(std, Tensor) else 0))
        z = _finish(g.standard_normal(shape, dtype=_gen_dtype(d)), d, ref.device, False)
        if not (getattr(mean, "_requires_grad", False) or getattr(std, "_requires_grad", False)):
            m = mean._data if isinstance(mean, Tensor) else mean
            s = std._data if isinstance(std, Tensor) else std
            return _make((m + s * z._data).astype(d.np, copy=False))
        return mean + std * z
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - missing "
                        "required argument 'size'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt_double(std)}")
    d = _float_dtype(dtype, "normal_kernel_cpu")
    arr = mean + std * g.standard_normal(_shape((tuple(size),), "normal"), dtype=_gen_dtype(d))
    return _finish(arr, d, device, requires_grad)


_P_MSG = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
          "be improved?  If so, please report an enhancement request to PyTorch.)")


@with_out
def bernoulli(input, p=None, *, generator=None, out=None):
    """Draw 0/1 with probabilities ``input`` (or the scalar ``p``), in input's dtype."""
    if input.dtype.category < D._FLOAT:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for "
                                  f"'{input.dtype._legacy}'")
    probs = input._data if p is None else np.full(input._data.shape, p)
    probs_h = probs if isinstance(probs, np.ndarray) else probs.get()
    if np.any((probs_h < 0) | (probs_h > 1)):
        raise RuntimeError(_P_MSG)
    draw = _rng(generator).random(probs_h.shape) < probs_h
    return _finish(draw, input.dtype, input.device, False)


# ---- in-place samplers (Tensor.uniform_, normal_, ...) ------------------------------------
def _write_(t, arr):
    """Overwrite ``t``'s elements in place, as torch's in-place samplers do: a ``copy_``, so
    that the in-place mechanism's checks, version bump and view rebasing apply."""
    arr = np.asarray(arr)
    if not isinstance(t._data, np.ndarray):
        arr = to_device_array(arr, t.device)
    return t.copy_(_make(arr.astype(t._data.dtype, copy=False)))


def uniform_(t, from_=0.0, to=1.0, *, generator=None):
    d = _float_dtype(t.dtype, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_fmt_double(from_)} > to={_fmt_double(to)}")
    u = _uniform01(_rng(generator), t._data.shape, d)
    return _write_(t, from_ + (to - from_) * u.astype(np.float64))


def normal_(t, mean=0.0, std=1.0, *, generator=None):
    d = _float_dtype(t.dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt_double(std)}")
    return _write_(t, mean + std * _rng(generator).standard_normal(t._data.shape,
                                                                    dtype=_gen_dtype(d)))


def random_(t, from_=0, to=None, *, generator=None):
    """Integers in [from, to); ``random_(to)`` means [0, to); ``random_()`` the dtype's range."""
    if to is None and from_ != 0:
        from_, to = 0, from_
    d = t.dtype
    if to is None:
        if d.category == D._INT:
            to = int(np.iinfo(d.np).max) + 1
        elif d is D.bool:
            to = 2
        else:  # floats: every integer the mantissa holds exactly
            to = (1 << {"float16": 11, "bfloat16": 8, "float32": 24}.get(d.name, 53)) + 1
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={from_} >= to={to}")
    return _write_(t, _rng(generator).integers(from_, to, size=t._data.shape))


def bernoulli_(t, p=0.5, *, generator=None):
    probs = p._data if isinstance(p, Tensor) else np.full(t._data.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError(_P_MSG)
    return _write_(t, _rng(generator).random(t._data.shape) < probs)


def exponential_(t, lambd=1.0, *, generator=None):
    _float_dtype(t.dtype, "exponential_cpu")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _write_(t, _rng(generator).exponential(1.0 / lambd, size=t._data.shape))


def geometric_(t, p, *, generator=None):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    return _write_(t, _rng(generator).geometric(p, size=t._data.shape))


def log_normal_(t, mean=1.0, std=2.0, *, generator=None):
    _float_dtype(t.dtype, "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return _write_(t, _rng(generator).lognormal(mean, std, size=t._data.shape))


def cauchy_(t, median=0.0, sigma=1.0, *, generator=None):
    _float_dtype(t.dtype, "cauchy_cpu")
    return _write_(t, median + sigma * _rng(generator).standard_cauchy(size=t._data.shape))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    probs = np.asarray(input.detach().cpu().numpy(), dtype=np.float64)
    g = _rng(generator)
    rows = probs.reshape(-1, probs.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    out = []
    for r in rows:
        if r.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        out.append(g.choice(len(r), size=num_samples, replace=replacement, p=r / r.sum()))
    arr = np.asarray(out, dtype=np.int64).reshape(probs.shape[:-1] + (num_samples,))
    return _finish(arr, D.int64, input.device, False)
