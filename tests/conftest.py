"""Fixtures shared by the whole suite."""
import pytest

import ember


# "standin": Ember's CPU-backed CuPy stand-in (ember._standin), which runs everywhere and
# fails where op code mixes host and device arrays; "cuda": a real GPU through CuPy, skipped
# (and reported as skipped) on machines without one.
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


@pytest.fixture(params=["standin", "cuda"])
def cuda_device(request):
    from ember import _device
    saved = _device._cupy, _device._cupyx
    if request.param == "cuda":
        if not REAL_GPU:
            pytest.skip("no CUDA GPU on this machine")
        _device._cupy = _device._cupyx = None
    else:
        _device.use_standin()
    # Tensors a sample's function makes itself (index tensors, weights) go to the device too.
    ember.set_default_device("cuda")
    try:
        yield ember.device("cuda", 0)
    finally:
        ember.set_default_device(None)
        _device._cupy, _device._cupyx = saved
