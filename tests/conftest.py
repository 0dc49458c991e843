"""Fixtures shared by the whole suite."""
import pytest

import ember

from tests._devices import REAL_GPU, cuda_backend


# "standin": Ember's CPU-backed CuPy stand-in (ember._standin), which runs everywhere and
# fails where op code mixes host and device arrays; "cuda": a real GPU through CuPy, skipped
# (and reported as skipped) on machines without one.
@pytest.fixture(params=["standin", "cuda"])
def cuda_device(request):
    if request.param == "cuda" and not REAL_GPU:
        pytest.skip("no CUDA GPU on this machine")
    with cuda_backend(request.param):
        # Tensors a sample's function makes itself (index tensors, weights) go there too.
        ember.set_default_device("cuda")
        yield ember.device("cuda", 0)
