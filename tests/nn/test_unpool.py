"""max_unpool with overlapping windows and explicit output sizes, against torch."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize("d,kernel,stride", [(1, 3, 1), (2, 3, 1), (2, 2, 2), (1, 4, 2)])
def test_max_unpool_overlapping_windows_match_torch(d, kernel, stride):
    shape = (2, 3) + (7,) * d
    x = np.random.default_rng(d + kernel).standard_normal(shape).astype(np.float32)
    w = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    out = {}
    for lib in (torch, ember):
        F = lib.nn.functional
        pool = getattr(F, f"max_pool{d}d")
        unpool = getattr(F, f"max_unpool{d}d")
        t = lib.tensor(x, requires_grad=True)
        y, idx = pool(t, kernel, stride, return_indices=True)
        u = unpool(y, idx, kernel, stride, output_size=shape[2:])
        (u * lib.tensor(w)).sum().backward()
        out[lib] = (u.detach().numpy(), t.grad.numpy())
    np.testing.assert_allclose(out[ember][0], out[torch][0], rtol=1e-6)
    np.testing.assert_allclose(out[ember][1], out[torch][1], rtol=1e-6)


def test_max_unpool_rejects_bad_output_size_as_torch():
    msgs = []
    for lib in (torch, ember):
        y, idx = lib.nn.functional.max_pool2d(lib.ones(1, 1, 6, 6), 2, return_indices=True)
        with pytest.raises(ValueError) as e:
            lib.nn.functional.max_unpool2d(y, idx, 2, output_size=(20, 20))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
