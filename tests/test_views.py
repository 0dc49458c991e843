"""Views: shared storage, version counters, _base/data_ptr, and in-place autograd vs torch."""
import numpy as np
import pytest
import torch

import ember

VIEWS = [
    ("view", lambda t: t.view(3, 4)),
    ("reshape", lambda t: t.reshape(2, 6)),
    ("slice", lambda t: t[1:, ::2]),
    ("select", lambda t: t[1]),
    ("transpose", lambda t: t.transpose(0, 1)),
    ("permute", lambda t: t.permute(1, 0)),
    ("T", lambda t: t.T),
    ("narrow", lambda t: t.narrow(1, 1, 2)),
    ("unsqueeze", lambda t: t.unsqueeze(0)),
    ("squeeze", lambda t: t.unsqueeze(1).squeeze(1)),
    ("expand", lambda t: t[:1].expand(3, 4)),
    ("diagonal", lambda t: t.diagonal()),
    ("unbind", lambda t: t.unbind(0)[1]),
    ("split", lambda t: t.split(2, dim=1)[1]),
    ("chunk", lambda t: t.chunk(2, dim=0)[0]),
    ("movedim", lambda t: t.movedim(0, 1)),
    ("unflatten", lambda t: t.unflatten(1, (2, 2))),
    ("flatten_view", lambda t: t.flatten()),
    ("ellipsis", lambda t: t[...]),
]


def _pair():
    data = np.arange(12.0).reshape(3, 4)
    return ember.tensor(data), torch.tensor(data)


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_view_shares_storage_base_and_version(name, fn):
    e, t = _pair()
    ev, tv = fn(e), fn(t)
    assert tv._base is t
    assert ev._base is e
    assert ev.data_ptr() - e.data_ptr() == tv.data_ptr() - t.data_ptr()
    assert ev.stride() == tv.stride()
    # A write through the base shows in the view and bumps the shared version.
    e.add_(1)
    t.add_(1)
    assert ev._version == tv._version == 1
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    if name != "expand":
        ev.mul_(3)
        tv.mul_(3)
        assert e._version == t._version == 2
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_view_of_view_points_at_root_base():
    e, t = _pair()
    assert e[1:][0]._base is e and t[1:][0]._base is t


def test_copies_are_not_views():
    for x in _pair():
        for c in (x.clone(), x.t().reshape(12), x[[0, 2]], x.flip(0)):
            assert c._base is None, type(x)
            c.fill_(-1)
        np.testing.assert_array_equal(x.numpy(), np.arange(12.0).reshape(3, 4))


def _run(lib, fn):
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    y = lib.tensor(np.array([0.5, -1.5, 2.0, 3.0]), requires_grad=True)
    out = fn(lib, x, y)
    w = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
    (out * w).sum().backward()
    grads = [None if g is None else g.numpy() for g in (x.grad, y.grad)]
    return out.detach().numpy(), grads, type(out.grad_fn).__name__


def f_slice_mul(lib, x, y):
    a = x.clone()
    a[1:3].mul_(2)
    return a


def f_view_add(lib, x, y):
    a = x * 1
    v = a.view(2, 6)
    v.add_(y.repeat(3).view(2, 6))
    return a * v.sum()


def f_setitem_slice(lib, x, y):
    a = x * 2
    a[1, :] = y * y
    a[:, 0] = 7.0
    return a * a


def f_setitem_nested(lib, x, y):
    a = x.sin()
    a[0][1:3] = y[:2]
    return a


def f_base_then_views(lib, x, y):
    a = x * 1
    v = a[:, 1]
    w = a.t()
    a.mul_(y)
    return v * w[2]


def f_view_of_fresh_tensor(lib, x, y):
    a = lib.zeros(3, 4, dtype=lib.float64)
    a[1].add_(y)
    return a * x


def f_transpose_row(lib, x, y):
    a = x + 0
    v = a.t()
    v[2].mul_(y[:3])
    return v.sin()


def f_saved_result_through_view(lib, x, y):
    a = x * 1
    a[0].exp_()
    return a.tanh()


CASES = [f_slice_mul, f_view_add, f_setitem_slice, f_setitem_nested, f_base_then_views,
         f_view_of_fresh_tensor, f_transpose_row, f_saved_result_through_view]


@pytest.mark.parametrize("fn", CASES, ids=[f.__name__ for f in CASES])
def test_inplace_through_views_gradients_match_torch(fn):
    te, tg, tname = _run(torch, fn)
    ee, eg, ename = _run(ember, fn)
    np.testing.assert_allclose(ee, te, rtol=1e-12)
    assert ename == tname
    for a, b in zip(eg, tg):
        assert (a is None) == (b is None)
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_grad_fn_names_after_inplace_through_view():
    for lib in (torch, ember):
        x = lib.ones(4, requires_grad=True)
        a = x * 1
        v = a[1:3]
        v.mul_(2)
        assert type(a.grad_fn).__name__ == "CopySlices"
        assert type(v.grad_fn).__name__ == "AsStridedBackward0"
        b = lib.zeros(4)
        b[1:3].add_(x[:2])
        assert b.requires_grad and not b.is_leaf


def _error(lib, fn):
    with pytest.raises(Exception) as info:
        fn(lib)
    return type(info.value), str(info.value)


def test_view_of_leaf_inplace_error_matches_torch():
    def fn(lib):
        x = lib.ones(4, requires_grad=True)
        x[1:3].mul_(2)
    assert _error(ember, fn) == _error(torch, fn)


@pytest.mark.parametrize("split", ["unbind", "split", "chunk"])
def test_multi_output_view_inplace_error_matches_torch(split):
    def fn(lib):
        x = lib.ones(4, 2, requires_grad=True)
        a = x * 1
        parts = {"unbind": lambda: a.unbind(0), "split": lambda: a.split(2),
                 "chunk": lambda: a.chunk(2)}[split]()
        parts[0].mul_(2)
    assert _error(ember, fn) == _error(torch, fn)


def test_saved_tensor_modified_through_view_raises_like_torch():
    def fn(lib):
        x = lib.ones(2, 3, requires_grad=True)
        a = x * 1
        b = a * a          # saves a
        a[0].add_(1)       # writes a through a view
        b.sum().backward()
    et, em = _error(ember, fn)
    tt, tm = _error(torch, fn)
    assert et is tt is RuntimeError
    assert em.split("[")[0] == tm.split("[")[0]
    assert "is at version 1; expected version 0 instead" in em
    assert "is at version 1; expected version 0 instead" in tm


def test_inplace_without_grad_writes_through_views():
    e, t = _pair()
    with ember.no_grad():
        e[0].mul_(0)
    with torch.no_grad():
        t[0].mul_(0)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert e._version == t._version == 1


def test_copies_of_a_base_do_not_inherit_its_views():
    import copy
    x = ember.ones(3, 4, requires_grad=True)
    a = x * 1
    v = a[0]
    b = copy.deepcopy(a.detach()).requires_grad_()
    c = b * 1
    c[1].mul_(2)                      # an in-place write through a view of the copy's history
    assert type(v.grad_fn).__name__ == "SelectBackward0"
    v.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.r_[[np.ones(4)], np.zeros((2, 4))])
