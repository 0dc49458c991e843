"""Whether this machine has a real CUDA GPU (the cuda test params run only there), and the
switch between the CUDA stand-in and a real GPU for a test."""
import contextlib
import copy


def _real_gpu():
    from ember import _device
    saved = _device._cupy, _device._cupyx
    _device._cupy = _device._cupyx = None
    try:
        return _device.cuda_is_available() and \
            not getattr(_device._load_cupy(), "_ember_standin", False)
    finally:
        _device._cupy, _device._cupyx = saved


REAL_GPU = _real_gpu()


@contextlib.contextmanager
def cuda_backend(kind):
    """``cuda`` backed by the stand-in (``kind="standin"``) or by CuPy on a real GPU
    (``"cuda"``) inside the block; every piece of device state is restored after it."""
    import ember
    from ember import _device, _standin
    saved = (_device._cupy, _device._cupyx, ember.cuda._initialized, copy.deepcopy(ember.cuda._peak),
             dict(_standin._state), _standin._current_stream[0], _device._default_device[0])
    if kind == "standin":
        _device.use_standin()
    else:
        _device._cupy = _device._cupyx = None   # CuPy is loaded on first use
    try:
        yield
    finally:
        (_device._cupy, _device._cupyx, ember.cuda._initialized, peak, state,
         _standin._current_stream[0], _device._default_device[0]) = saved
        ember.cuda._peak.clear()
        ember.cuda._peak.update(peak)
        _standin._state.update(state)
