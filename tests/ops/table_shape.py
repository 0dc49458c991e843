"""Op-table entries: shape and view ops, and basic indexing."""
import torch

import ember
from ember._ops.registry import REGISTRY, apply

from .harness import OpInfo, Sample, arr


def _to_device_op(x):
    # Without a second device x.to(device) never moves a tensor, so it never reaches the
    # op: apply the op itself (cpu to cpu) to run its forward and backward.
    return apply(REGISTRY["to_device"], (x,), {"device": x.device, "src_device": x.device}) * 1


def one(shape, *args, **kwargs):
    return lambda rng: [Sample((arr(rng, shape),) + args, kwargs)]


ENTRIES = [
    OpInfo("view", lambda x, *s: x.view(*s), lambda x, *s: x.view(*s),
           lambda rng: [Sample((arr(rng, (3, 4)), 12)), Sample((arr(rng, (3, 4)), 2, -1)),
                        Sample((arr(rng, (2, 3, 4)), (6, 4))), Sample((arr(rng, ()), 1))]),
    OpInfo("reshape_copy", lambda x, *s: x.t().reshape(*s), lambda x, *s: x.t().reshape(*s),
           lambda rng: [Sample((arr(rng, (3, 4)), 12)), Sample((arr(rng, (3, 4)), 6, 2))],
           covers=("reshape_copy", "t")),
    OpInfo("reshape", ember.reshape, torch.reshape,
           lambda rng: [Sample((arr(rng, (3, 4)), (4, 3))), Sample((arr(rng, (3, 4)), (-1,)))],
           covers=("view",)),
    OpInfo("flatten", ember.flatten, torch.flatten,
           lambda rng: [Sample((arr(rng, (2, 3, 4)),)), Sample((arr(rng, (2, 3, 4)), 1)),
                        Sample((arr(rng, (2, 3, 4)), 0, 1)), Sample((arr(rng, ()),))],
           covers=("view",)),
    OpInfo("permute", ember.permute, torch.permute,
           lambda rng: [Sample((arr(rng, (2, 3, 4)), (2, 0, 1))), Sample((arr(rng, (2, 3)), (1, 0)))]),
    OpInfo("transpose", ember.transpose, torch.transpose,
           lambda rng: [Sample((arr(rng, (2, 3, 4)), 0, 2)), Sample((arr(rng, (2, 3)), -1, 0))]),
    OpInfo("t", ember.t, torch.t,
           lambda rng: [Sample((arr(rng, (2, 3)),)), Sample((arr(rng, (3,)),))],
           covers=("t", "transpose")),
    OpInfo("unsqueeze", ember.unsqueeze, torch.unsqueeze,
           lambda rng: [Sample((arr(rng, (2, 3)), 0)), Sample((arr(rng, (2, 3)), -1)),
                        Sample((arr(rng, ()), 0))]),
    OpInfo("squeeze", ember.squeeze, torch.squeeze,
           lambda rng: [Sample((arr(rng, (2, 1, 3, 1)),)), Sample((arr(rng, (2, 1, 3)), 1)),
                        Sample((arr(rng, (2, 1, 3)), 0)), Sample((arr(rng, (1, 2, 1)), (0, 2)))],
           covers=("squeeze",)),
    OpInfo("expand", lambda x, *s: x.expand(*s), lambda x, *s: x.expand(*s),
           lambda rng: [Sample((arr(rng, (3, 1)), 3, 4)), Sample((arr(rng, (3,)), 2, 3)),
                        Sample((arr(rng, (1, 3)), -1, 3))]),
    OpInfo("clone", ember.clone, torch.clone, one((3, 4))),
    OpInfo("select", ember.select, torch.select,
           lambda rng: [Sample((arr(rng, (3, 4)), 0, 1)), Sample((arr(rng, (3, 4)), 1, -1))]),
    OpInfo("slice", lambda x: x[1:3, ::2], lambda x: x[1:3, ::2], one((4, 5))),
    OpInfo("narrow", ember.narrow, torch.narrow,
           lambda rng: [Sample((arr(rng, (4, 5)), 1, 1, 3))], covers=("slice",)),
    OpInfo("getitem_basic", lambda x: x[0, ..., None, 1:], lambda x: x[0, ..., None, 1:],
           one((3, 4, 5)), covers=("select", "slice", "unsqueeze")),
    OpInfo("alias", lambda x: x[...], lambda x: x[...], one((3, 4))),
    OpInfo("slice_scatter", lambda x: x[1:3] * 1, lambda x: x[1:3] * 1, one((4, 2)),
           covers=("slice_scatter", "slice")),
    OpInfo("getitem_advanced", lambda x, i: x[ember.tensor(i)], lambda x, i: x[torch.tensor(i)],
           lambda rng: [Sample((arr(rng, (5, 3)), [0, 2, 2, 4])),
                        Sample((arr(rng, (4,)), [True, False, True, True]))],
           covers=("index", "index_put")),
    OpInfo("to_copy", lambda x: x.double() * 2, lambda x: x.double() * 2, one((3, 4))),
    OpInfo("to_device", _to_device_op, lambda x: x.to("cpu", copy=True) * 1, one((3,))),
    OpInfo("view_dtype", lambda x: x.view(ember.int32), lambda x: x.view(torch.int32), one((3,)),
           grad=False),
]


def _write_through_view(lib):
    """In-place through a view of a non-leaf: the base's history becomes CopySlices."""
    def fn(x, y):
        a = x * 1
        v = a[1:3]
        v.mul_(y)
        return a * 2 + v.sum()
    return fn


def _write_then_reuse_view(lib):
    """An older view of the same base sees the write (its history is regenerated)."""
    def fn(x, y):
        a = x * 1
        w = a.t()
        a[0].add_(y)
        return w * w
    return fn


ENTRIES += [
    OpInfo("copy_slices", _write_through_view(ember), _write_through_view(torch),
           lambda rng: [Sample((arr(rng, (4, 3)), arr(rng, (3,))))],
           covers=("copy_slices", "as_strided", "as_strided_scatter", "slice")),
    OpInfo("as_strided_refresh", _write_then_reuse_view(ember), _write_then_reuse_view(torch),
           lambda rng: [Sample((arr(rng, (2, 3)), arr(rng, (3,))))],
           covers=("copy_slices", "as_strided", "select")),
]

ENTRIES += [
    OpInfo("slice_scatter_public", ember.slice_scatter, torch.slice_scatter,
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (3, 2)), 1, 1, 3)),
                        Sample((arr(rng, (3, 4)), arr(rng, (3, 2)), 1), {"step": 2}),
                        Sample((arr(rng, (3, 4)), arr(rng, (1, 4))), {"start": -1})],
           covers=("slice_scatter",)),
    OpInfo("select_scatter", ember.select_scatter, torch.select_scatter,
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (4,)), 0, -1)),
                        Sample((arr(rng, (3, 4)), arr(rng, (3,)), 1, 2))],
           covers=("slice_scatter",)),
]


def _restride(lib):
    def fn(x):
        a = x * 1
        a.t_()
        a.unsqueeze_(1)
        a.transpose_(0, 2)
        a.squeeze_(1)
        a.unsqueeze_(0).squeeze_()
        a.unsqueeze_(0).squeeze_((0,))
        return a * a.sum()
    return fn


ENTRIES += [
    OpInfo("restride_inplace", _restride(ember), _restride(torch),
           lambda rng: [Sample((arr(rng, (2, 3)),))],
           covers=("t", "transpose", "squeeze", "unsqueeze")),
]


def _strided(lib):
    """as_strided views (overlapping windows, an offset, a view's storage) and their grads."""
    def fn(x):
        a = x * 1
        win = lib.as_strided(a, (3, 4), (2, 1), 1)
        tail = a[1:].as_strided((2, 2), (1, 3))  # offset defaults to the view's
        return win.sum(1) * tail.reshape(-1)[:3]
    return fn


ENTRIES += [
    OpInfo("as_strided_public", _strided(ember), _strided(torch),
           lambda rng: [Sample((arr(rng, (10,)),))], covers=("strided_view", "as_strided",
                                                            "as_strided_scatter")),
]
