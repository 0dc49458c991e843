"""Process-wide runtime settings: thread counts, determinism, matmul precision, compile.

Ember computes with NumPy, so the intra-op thread count that matters is the BLAS
library's; ``threadpoolctl`` (optional) is what reaches into it at run time.
"""
import os
import warnings

try:
    import threadpoolctl as _threadpoolctl
except ImportError:  # Ember still runs; thread counts then cannot be changed after start-up
    _threadpoolctl = None

_state = {"interop_threads": None, "deterministic": False, "warn_only": False,
          "matmul_precision": "highest", "warned_no_threadpoolctl": False}


def _check_int(value, fname):
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuntimeError(f"{fname} expects an int, but got {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{fname} expects a positive integer")


# ---- intra-op threads ---------------------------------------------------------------------
def set_num_threads(int):  # noqa: A002  (torch's parameter name)
    """Number of threads the BLAS (and any OpenMP) pools behind NumPy, and Ember's own
    block-parallel kernels (``_parallel``), use from now on."""
    _check_int(int, "set_num_threads")
    from . import _parallel
    _parallel.set_threads(int)
    if _threadpoolctl is None:
        if not _state["warned_no_threadpoolctl"]:
            _state["warned_no_threadpoolctl"] = True
            warnings.warn("ember.set_num_threads needs the 'threadpoolctl' package to change "
                          "NumPy's BLAS thread count; the count is left unchanged",
                          stacklevel=2)
        return
    # Not used as a context manager: the limit stays in force for the rest of the process.
    _threadpoolctl.threadpool_limits(limits=int)


def get_num_threads():
    """Threads the BLAS pool behind NumPy uses (the CPU count when that cannot be read)."""
    if _threadpoolctl is not None:
        pools = _threadpoolctl.threadpool_info()
        counts = [p["num_threads"] for p in pools if p.get("user_api") == "blas"]
        if counts:
            return max(counts)
    return os.cpu_count() or 1


# ---- inter-op threads ---------------------------------------------------------------------
# Ember runs ops one after another, so there is no inter-op pool; torch's contract (set once,
# before use; read back what was set, else the core count) is kept so scripts behave alike.
def set_num_interop_threads(int):  # noqa: A002
    _check_int(int, "set_num_interop_threads")
    if _state["interop_threads"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has "
                           "started or set_num_interop_threads called")
    _state["interop_threads"] = int


def get_num_interop_threads():
    n = _state["interop_threads"]
    return n if n is not None else (os.cpu_count() or 1)


# ---- determinism --------------------------------------------------------------------------
def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the flag; every Ember kernel is already deterministic on the CPU."""
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _state["deterministic"] = mode
    _state["warn_only"] = warn_only


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


# ---- float32 matmul precision -------------------------------------------------------------
_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    """'highest' | 'high' | 'medium'.  NumPy matmuls are always full float32, so this only
    records the choice (and the TF32 flags in ``ember.backends`` that follow it)."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _PRECISIONS:
        # torch warns and ignores an unknown value rather than raising
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      f"setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _state["matmul_precision"]


# ---- compile ------------------------------------------------------------------------------
_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
# Every backend name torch registers (torch._dynamo.list_backends(None)).
_BACKENDS = frozenset((
    "aot_eager", "aot_eager_decomp_partition", "aot_eager_decomp_partition_crossref",
    "aot_eager_decomp_partition_with_mode", "aot_eager_default_partitioner", "aot_ts",
    "cudagraphs", "dynamo_accuracy_minifier_backend", "dynamo_minifier_backend", "eager",
    "eager_debug", "eager_noexcept", "inductor", "invoke_subgraph", "openxla", "openxla_eval",
    "pre_dispatch_eager", "ts", "tvm"))


class InvalidBackend(RuntimeError):
    """torch._dynamo.exc.InvalidBackend (a RuntimeError)."""


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """torch.compile: the arguments are checked as torch checks them; the callable comes
    back compiled (``ember/_compile``: each input signature's ops are recorded on the first
    calls and replayed as generated NumPy code after), a module wrapped in an
    ``OptimizedModule`` as torch's (``_orig_mod``, prefixed state_dict keys).  Every backend
    name and ``mode`` gets the same compiler; ``disable=True`` returns ``model`` itself.

    Usable as ``ember.compile(fn)``, ``@ember.compile`` and ``@ember.compile(mode=...)``.
    """
    if model is None:
        def fn(model):
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                           mode=mode, options=options, disable=disable)
        return fn
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if dynamic is not None and not isinstance(dynamic, bool):
        raise AssertionError(f"Expected enable to be a bool, got {type(dynamic)}")
    if isinstance(backend, str) and backend not in _BACKENDS:
        raise InvalidBackend(f"Invalid backend: '{backend}', see `torch._dynamo.list_backends()` "
                             f"for available backends.")
    if disable:
        return model
    from ._compile import compile_callable
    return compile_callable(model, fullgraph=fullgraph, dynamic=dynamic, mode=mode)


__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "set_float32_matmul_precision", "get_float32_matmul_precision", "compile"]
