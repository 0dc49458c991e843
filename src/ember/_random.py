"""Random numbers: Generator objects, the default generator, and random factories.

Ember's CPU generator is torch's: the same mt19937 engine (NumPy's ``MT19937`` bit
generator, seeded as torch seeds it) and the same transformations from raw 32/64-bit
draws to values, so that after ``manual_seed(s)`` the functions torch users rely on for
reproducibility (``rand``, ``randn``, ``randint``, ``randperm``, ``random_``,
``uniform_``, ``normal_``, ``bernoulli``, dropout, and the ``nn.init`` functions built on
them) give torch's numbers, and ``get_rng_state`` is torch's 5056-byte state.  The
``float32`` normal path matches torch's to about one ulp: torch computes its Box-Muller
transform with SIMD ``log``/``cos``/``sin`` whose last bit differs from NumPy's.  Draws
torch makes through other algorithms (exponential, poisson, gamma, multinomial, ...) use
NumPy's distributions on the same engine: reproducible, not torch's values.
"""
import math
import struct

import numpy as np

from . import _dtype as D
from ._device import as_device, factory_device, to_device_array
from ._creation import _leaf, _pinned_if, _size
from ._tensor import Tensor, _make
from ._ops._common import with_out

_DEFAULT_SEED = 67280421310721  # torch's default seed, so an unseeded run is deterministic too
_MT_N = 624
# torch's CPUGeneratorImplState: the legacy POD (initial seed, left, seeded, next, the 624
# state words as uint64, three unused doubles and the cached double normal's validity)
# followed by the cached float normal and its validity flag.
_LEGACY = struct.Struct("<QiiQ624Qdddi4x")
_STATE = struct.Struct(f"<{_LEGACY.size}sf?3x")


class Generator:
    """torch.Generator: ``manual_seed``, ``seed``, ``initial_seed``, ``get_state``/``set_state``."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._bg = np.random.MT19937()
        self._np = np.random.Generator(self._bg)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < -0x8000_0000_0000_0000 or seed > 0xFFFF_FFFF_FFFF_FFFF:
            raise ValueError("Overflow when unpacking long long")
        seed &= 0xFFFF_FFFF_FFFF_FFFF  # torch reinterprets negative seeds as unsigned
        self._seed = seed
        # mt19937's classic initialisation from the low 32 bits, as torch's engine does
        key = np.random.RandomState(seed & 0xFFFF_FFFF).get_state()[1]
        self._bg.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": _MT_N}}
        self._normal = None   # torch's cached second Box-Muller value (double)
        self._fresh = True    # torch reports next=0 until the first draw after seeding
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    # raw draws: everything below goes through these two
    def _raw32(self, n):
        self._fresh = False
        return self._bg.random_raw(n)

    def _raw64(self, n):
        r = self._raw32(2 * n)
        return (r[0::2] << np.uint64(32)) | r[1::2]

    @property
    def _numpy(self):
        """A NumPy Generator on the same engine, for draws torch makes otherwise."""
        self._fresh = False
        return self._np

    def get_state(self):
        st = self._bg.state["state"]
        pos = int(st["pos"])
        left, nxt = _MT_N + 1 - pos, pos
        if self._fresh:
            left, nxt = 1, 0
        normal_valid = self._normal is not None
        legacy = _LEGACY.pack(self._seed, left, 1, nxt, *[int(k) for k in st["key"]],
                              0.0, self._normal if normal_valid else 0.0, 0.0, int(normal_valid))
        raw = _STATE.pack(legacy, 0.0, False)
        return _make(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype is not D.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = bytes(np.ascontiguousarray(new_state._data).tobytes())
        if len(raw) != _STATE.size:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE.size} but "
                               f"found the input RNG state size to be {len(raw)}")
        legacy = raw[:_LEGACY.size]
        fields = _LEGACY.unpack(legacy)
        seed, left, _seeded, _next = fields[:4]
        key = np.array(fields[4:4 + _MT_N], dtype=np.uint64).astype(np.uint32)
        normal_y, normal_valid = fields[4 + _MT_N + 1], fields[-1]
        if left < 1 or left > _MT_N + 1:
            raise RuntimeError("The input RNG state must be a valid mt19937 state")
        self._bg.state = {"bit_generator": "MT19937",
                          "state": {"key": key, "pos": _MT_N + 1 - left}}
        self._seed = seed
        self._normal = normal_y if normal_valid else None
        self._fresh = left == 1 and _next == 0
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


def _gen(generator):
    return generator or default_generator


def _rng(generator):
    """The NumPy Generator on ``generator``'s engine (draws torch makes otherwise)."""
    return _gen(generator)._numpy


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


# ---- torch's transformations of the raw draws ---------------------------------------------
# Random bits a uniform float keeps: float32's 24 for the 32-bit types (torch draws the
# half-precision types as float32 and rounds), float64's 53 from a 64-bit draw.
_DIGITS = {"float16": 24, "bfloat16": 24, "float32": 24, "float64": 53}
_BOX_MULLER_BLOCK = 16   # torch's normal_fill transforms blocks of 16 (8 pairs)
_INT64_FROM = 1 << 28    # randint/random_ ranges from here on draw 64 bits, as torch's
_SCALAR_PAIRS = 4096     # element-wise normal draws up to this many pairs use libm exactly


def _compute_dtype(d):
    return np.float64 if d.name in ("float64", "complex128") else np.float32


def _real(d):
    return {"complex64": D.float32, "complex128": D.float64}.get(d.name, d)


def _uniform(g, n, d, low=0.0, high=1.0):
    """``n`` draws on [low, high) as torch's uniform_ makes them for dtype ``d``."""
    digits = _DIGITS[d.name]
    raw = g._raw64(n) if digits == 53 else g._raw32(n)
    ct = _compute_dtype(d)
    x = (raw & np.uint64((1 << digits) - 1)).astype(ct) * ct(2.0 ** -digits)
    if low == 0.0 and high == 1.0:
        return x
    span = np.asarray(high, dtype=d.np) - np.asarray(low, dtype=d.np)  # (to - from) in T
    # torch's ``x * (to - from) + from`` compiles to one fused multiply-add: in float64 the
    # float32 product is exact, so one rounding at the end gives the FMA's result
    return (x.astype(np.float64) * float(span) + float(np.asarray(low, dtype=d.np))).astype(ct)


def _box_muller(u1, u2, mean, std, ct):
    """torch's normal_fill_16: the pair (1 - u1, u2) becomes radius·cos and radius·sin."""
    radius = np.sqrt(ct(-2.0) * np.log(ct(1.0) - u1))
    theta = ct(2.0 * np.pi) * u2
    return np.stack([radius * np.cos(theta) * ct(std) + ct(mean),
                     radius * np.sin(theta) * ct(std) + ct(mean)], axis=-2)


def _normal_fill(g, n, d, mean, std):
    """torch's path for contiguous tensors of 16 or more elements: all uniforms first, then
    Box-Muller in blocks of 16; a ragged end redraws the last 16 values afresh."""
    ct = _compute_dtype(d)
    u = _uniform(g, n, d)
    out = np.empty(n, dtype=ct)
    whole = n - n % _BOX_MULLER_BLOCK
    blocks = u[:whole].reshape(-1, 2, _BOX_MULLER_BLOCK // 2)
    out[:whole] = _box_muller(blocks[:, 0], blocks[:, 1], mean, std, ct).reshape(-1)
    if whole != n:
        tail = _uniform(g, _BOX_MULLER_BLOCK, d).reshape(2, -1)
        out[n - _BOX_MULLER_BLOCK:] = _box_muller(tail[0], tail[1], mean, std, ct).reshape(-1)
    return out


def _normal_serial(g, n, mean, std):
    """torch's element-by-element path (double Box-Muller, the second value of each pair
    cached in the generator for the next draw, across calls)."""
    out = np.empty(n)
    start = 0
    if n and g._normal is not None:
        out[0] = g._normal * std + mean
        g._normal = None
        start = 1
    rest = n - start
    pairs = (rest + 1) // 2
    if pairs:
        u = (g._raw64(2 * pairs) & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0 ** -53
        values = np.empty(2 * pairs)
        if pairs <= _SCALAR_PAIRS:
            # the C library's log1p/cos/sin, as torch's scalar loop calls them: NumPy's
            # SIMD versions can differ in the last bit
            for k, (u1, u2) in enumerate(zip(u[0::2].tolist(), u[1::2].tolist())):
                radius = math.sqrt(-2.0 * math.log1p(-u2))
                theta = 2.0 * math.pi * u1
                values[2 * k] = radius * math.cos(theta)
                values[2 * k + 1] = radius * math.sin(theta)
        else:
            radius = np.sqrt(-2.0 * np.log1p(-u[1::2]))
            theta = 2.0 * np.pi * u[0::2]
            values[0::2] = radius * np.cos(theta)
            values[1::2] = radius * np.sin(theta)
        out[start:] = values[:rest] * std + mean
        if rest % 2:
            g._normal = float(values[-1])
    return out


def _normal(g, shape, d, mean=0.0, std=1.0, contiguous=True):
    """Normal draws of ``shape`` for dtype ``d`` in torch's order (complex: interleaved
    real and imaginary parts, each with variance std²/2)."""
    n = int(np.prod(shape, dtype=np.int64))
    real = _real(d)
    if real is not d:
        flat = _normal(g, (2 * n,), real, mean, std / np.sqrt(2.0), contiguous)
        return flat.astype(_compute_dtype(real)).view(d.np).reshape(shape)
    if n >= _BOX_MULLER_BLOCK and contiguous:
        return _normal_fill(g, n, d, mean, std).reshape(shape)
    return _normal_serial(g, n, mean, std).reshape(shape)


def _uniform_shaped(g, shape, d, low=0.0, high=1.0):
    n = int(np.prod(shape, dtype=np.int64))
    real = _real(d)
    if real is not d:
        flat = _uniform(g, 2 * n, real, low, high)
        return flat.astype(_compute_dtype(real)).view(d.np).reshape(shape)
    x = _uniform(g, n, d, low, high).reshape(shape)
    if d.name in ("float16", "bfloat16"):
        # drawn as float32 and rounded: a draw that rounds up to ``high`` becomes ``low``,
        # as torch keeps [low, high) half-open
        x = x.astype(d.np)
        x[x >= np.asarray(high, dtype=d.np)] = np.asarray(low, dtype=d.np)
    return x


def _int_from_to(g, n, low, high):
    """Integers in [low, high) as torch's random_from_to draws them."""
    span = high - low
    raw = g._raw64(n) if span >= _INT64_FROM else g._raw32(n)
    return (raw % np.uint64(span)).astype(np.int64) + low


def _int_full(g, n, d):
    """``random_()``: the dtype's whole non-negative range (floats: the integers their
    mantissa holds exactly), 64-bit draws for int64 and float64 as torch."""
    if d is D.bool:
        return (g._raw32(n) & np.uint64(1)).astype(bool)
    if d.category == D._INT:
        wide = d.np.itemsize == 8
        top = int(np.iinfo(d.np).max) + 1
    else:  # floats: every integer the mantissa holds exactly
        wide = d.name == "float64"
        top = (1 << {"float16": 11, "bfloat16": 8}.get(d.name, _DIGITS[d.name])) + 1
    raw = g._raw64(n) if wide else g._raw32(n)
    return raw % np.uint64(top)


def _randperm(g, n):
    """torch's Fisher-Yates: step i swaps position i with i + random() % (n - i)."""
    perm = list(range(n))
    if n > 1:
        offsets = (g._raw32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
        for i, z in enumerate(offsets):
            j = i + z
            perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm, dtype=np.int64)


@with_out
def rand(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples on [0, 1)."""
    shape = _shape(args if size is None else (size,), "rand")
    d = _float_dtype(dtype, "check_uniform_bounds")
    return _pinned_if(_finish(_uniform_shaped(_gen(generator), shape, d), d, device,
                              requires_grad), pin_memory)


@with_out
def randn(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples (complex: real and imaginary parts each of variance 1/2)."""
    shape = _shape(args if size is None else (size,), "randn")
    d = _float_dtype(dtype, "normal_kernel_cpu")
    return _pinned_if(_finish(_normal(_gen(generator), shape, d), d, device, requires_grad),
                      pin_memory)


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
    shape = _shape((tuple(size),), "randint")
    arr = _int_from_to(_gen(generator), int(np.prod(shape, dtype=np.int64)), low, high)
    return _finish(arr.reshape(shape), d, device, requires_grad)


@with_out
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    return _pinned_if(_finish(_randperm(_gen(generator), n), dtype or D.int64, device,
                              requires_grad), pin_memory)


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, pin_memory=False, memory_format=None):
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad,
                pin_memory=pin_memory)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, pin_memory=False, memory_format=None):
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad,
                 pin_memory=pin_memory)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, pin_memory=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return _pinned_if(randint(low, high, tuple(input.shape), generator=generator,
                              dtype=dtype or input.dtype, device=device or input.device,
                              requires_grad=requires_grad), pin_memory)


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
    g = _gen(generator)
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
        # torch: normal_(0, 1) of the broadcast shape, then ``* std + mean``
        z = _finish(_normal(g, shape, d), d, ref.device, False)
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
    arr = _normal(g, _shape((tuple(size),), "normal"), d, mean, std)
    return _finish(arr, d, device, requires_grad)


_P_MSG = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
          "be improved?  If so, please report an enhancement request to PyTorch.)")


@with_out
def bernoulli(input, p=None, *, generator=None, out=None):
    """Draw 0/1 with probabilities ``input`` (or the scalar ``p``), in input's dtype."""
    if input.dtype.category < D._FLOAT:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for "
                                  f"'{input.dtype._legacy}'")
    g = _gen(generator)
    if p is not None:  # torch: bernoulli_(p) on an empty tensor like input
        draw = _bernoulli_scalar(g, input._data.shape, p)
        return _finish(draw, input.dtype, input.device, False)
    probs = input._data
    probs_h = probs if isinstance(probs, np.ndarray) else probs.get()
    if np.any((probs_h < 0) | (probs_h > 1)):
        raise RuntimeError(_P_MSG)
    return _finish(_bernoulli_tensor(g, probs_h), input.dtype, input.device, False)


def _bernoulli_tensor(g, probs):
    """Per-element probabilities: torch draws a float uniform for each (24 bits)."""
    return _uniform(g, probs.size, D.float32).reshape(probs.shape) < probs


def _bernoulli_scalar(g, shape, p):
    """One probability for all: torch draws a double uniform for each (53 bits)."""
    if not 0 <= p <= 1:
        raise RuntimeError(_P_MSG)
    n = int(np.prod(shape, dtype=np.int64))
    return _uniform(g, n, D.float64).reshape(shape) < p


def bernoulli_mask(shape, p, generator=None):
    """1 where a ``bernoulli_(p)`` draw of ``shape`` succeeds: dropout's noise, drawn in
    torch's order so that a seeded dropout drops torch's elements."""
    return _bernoulli_scalar(_gen(generator), tuple(shape), p)


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
    return _write_(t, _uniform_shaped(_gen(generator), t._data.shape, d, from_, to))


def normal_(t, mean=0.0, std=1.0, *, generator=None):
    d = _float_dtype(t.dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt_double(std)}")
    return _write_(t, _normal(_gen(generator), t._data.shape, d, mean, std,
                              contiguous=t.is_contiguous()))


def random_(t, from_=0, to=None, *, generator=None):
    """Integers in [from, to); ``random_(to)`` means [0, to); ``random_()`` the dtype's range."""
    if to is None and from_ != 0:
        from_, to = 0, from_
    d = t.dtype
    shape = t._data.shape
    n = int(np.prod(shape, dtype=np.int64))
    if to is None:
        return _write_(t, _int_full(_gen(generator), n, d).reshape(shape))
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={from_} >= to={to}")
    return _write_(t, _int_from_to(_gen(generator), n, int(from_), int(to)).reshape(shape))


def bernoulli_(t, p=0.5, *, generator=None):
    g = _gen(generator)
    if not isinstance(p, Tensor):
        return _write_(t, _bernoulli_scalar(g, t._data.shape, p))
    probs = np.broadcast_to(p._data, t._data.shape)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError(_P_MSG)
    return _write_(t, _bernoulli_tensor(g, probs))


def _u53(g, n):
    return _uniform(g, n, D.float64)


def _sized(t):
    return int(np.prod(t._data.shape, dtype=np.int64))


def exponential_(t, lambd=1.0, *, generator=None):
    _float_dtype(t.dtype, "exponential_cpu")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    u = _u53(_gen(generator), _sized(t))
    return _write_(t, (-np.log1p(-u) / lambd).reshape(t._data.shape))


def geometric_(t, p, *, generator=None):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    u = _u53(_gen(generator), _sized(t))
    return _write_(t, np.ceil(np.log(u) / np.log1p(-p)).reshape(t._data.shape))


def log_normal_(t, mean=1.0, std=2.0, *, generator=None):
    _float_dtype(t.dtype, "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    z = _normal_serial(_gen(generator), _sized(t), mean, std)  # torch: always element-wise
    return _write_(t, np.exp(z).reshape(t._data.shape))


def cauchy_(t, median=0.0, sigma=1.0, *, generator=None):
    _float_dtype(t.dtype, "cauchy_cpu")
    u = _u53(_gen(generator), _sized(t))
    return _write_(t, (median + sigma * np.tan(np.pi * (u - 0.5))).reshape(t._data.shape))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """torch's CPU algorithms: with replacement, a binary search of the normalised
    cumulative distribution per double uniform; without, the top ``num_samples`` of
    ``p / q`` for exponential ``q`` (the Gumbel-top-k trick)."""
    probs = np.asarray(input.detach().cpu().numpy())
    g = _gen(generator)
    rows = probs.reshape(-1, probs.shape[-1]).astype(np.float64)
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        cum = np.cumsum(rows, axis=1)
        cum /= cum[:, -1:]
        cum[:, -1] = 1.0
        u = _u53(g, rows.shape[0] * num_samples).reshape(rows.shape[0], num_samples)
        arr = np.stack([np.searchsorted(c, row_u, side="left") for c, row_u in zip(cum, u)])
    else:
        q = (-np.log1p(-_u53(g, rows.size))).astype(probs.dtype).reshape(rows.shape)
        keys = rows.astype(probs.dtype) / q
        arr = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    arr = np.asarray(arr, dtype=np.int64).reshape(probs.shape[:-1] + (num_samples,))
    return _finish(arr, D.int64, input.device, False)
