"""Random numbers: Generator objects, the default generator, and random factories.

Ember draws from NumPy's PCG64 (on the host, then moved to the tensor's device),
so streams are reproducible under ``manual_seed`` but are not torch's mt19937 numbers.
"""
import numpy as np

from . import _dtype as D
from ._device import as_device, to_device_array, device as _device_cls
from ._tensor import Tensor, _make

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
            raise RuntimeError(f"Overflow when unpacking long long")
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
            raise TypeError("expected a torch.ByteTensor, but got "
                            f"{type(new_state).__name__}")
        raw = bytes(new_state.numpy().tobytes())
        if len(raw) != 48:
            raise RuntimeError("Expected either a PhiloxCudaState or a CPUGeneratorImplState "
                               f"of size 48 bytes, but got {len(raw)}")
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


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _float_dtype(dtype, name):
    d = dtype or D.get_default_dtype()
    if d.category != D._FLOAT and d.category != 3:
        raise RuntimeError(f"\"{name}\" not implemented for '{d._legacy}'")
    return d


def _finish(arr, dtype, device, requires_grad):
    arr = np.asarray(arr).astype(dtype.np, copy=False)
    dev = as_device(device)
    if dev is not None and dev.type != "cpu":
        arr = to_device_array(arr, dev)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _gen_dtype(d):
    return np.float64 if d in (D.float64, D.complex128) else np.float32


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples on [0, 1)."""
    d = _float_dtype(dtype, "check_uniform_bounds")
    arr = _rng(generator).random(_shape(size), dtype=_gen_dtype(d))
    if d.is_complex:
        arr = arr + 1j * _rng(generator).random(arr.shape, dtype=_gen_dtype(d))
    return _finish(arr, d, device, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples."""
    d = _float_dtype(dtype, "normal_kernel_cpu")
    g = _rng(generator)
    arr = g.standard_normal(_shape(size), dtype=_gen_dtype(d))
    if d.is_complex:  # torch: real and imaginary parts each have variance 1/2
        arr = (arr + 1j * g.standard_normal(arr.shape, dtype=_gen_dtype(d))) / np.sqrt(2)
    return _finish(arr, d, device, requires_grad)


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
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    d = dtype or D.int64
    arr = _rng(generator).integers(low, high, size=_shape(tuple(size)), dtype=np.int64)
    return _finish(arr, d, device, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    return _finish(_rng(generator).permutation(n), dtype or D.int64, device, requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False):
    """normal(mean, std[, size]): mean/std may be tensors (broadcast) or floats."""
    g = _rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError(f"normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        z = g.standard_normal(shape)
        return _finish(m + s * z, ref.dtype if ref.dtype.category >= 2 else D.get_default_dtype(),
                       ref.device, False)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - missing "
                        "required argument 'size'")
    d = dtype or D.get_default_dtype()
    arr = mean + std * g.standard_normal(_shape(tuple(size)))
    return _finish(arr, d, device, requires_grad)


def bernoulli(input, p=None, *, generator=None, out=None):
    """Draw 0/1 with probabilities ``input`` (or the scalar ``p``), in input's dtype."""
    probs = input._data if p is None else np.full(input._data.shape, p)
    probs_h = probs if isinstance(probs, np.ndarray) else probs.get()
    if np.any((probs_h < 0) | (probs_h > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an enhancement "
                           "request to PyTorch.)")
    draw = _rng(generator).random(probs_h.shape) < probs_h
    return _finish(draw, input.dtype, input.device, False)


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
