"""Layers against torch: same weights (copied through state_dict), same inputs;
outputs, input gradients and parameter gradients must match."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn

from .helpers import check_module, close, sync, to_ember

RNG = np.random.default_rng(0)


def rand(*shape):
    return torch.from_numpy(RNG.standard_normal(shape).astype(np.float32))


def both(name, *args, **kwargs):
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


LAYERS = [
    ("Identity", (), {}, [(2, 3)]),
    ("Linear", (4, 3), {}, [(5, 4)]),
    ("Linear", (4, 3), {"bias": False}, [(2, 5, 4)]),
    ("Bilinear", (3, 4, 2), {}, [(5, 3), (5, 4)]),
    ("Flatten", (), {}, [(2, 3, 4)]),
    ("Flatten", (0, 1), {}, [(2, 3, 4)]),
    ("Unflatten", (1, (2, 2)), {}, [(3, 4)]),
    ("Conv1d", (2, 3, 3), {"stride": 2, "padding": 1}, [(2, 2, 9)]),
    ("Conv2d", (2, 4, 3), {"padding": 1}, [(2, 2, 5, 5)]),
    ("Conv2d", (4, 4, (2, 3)), {"stride": (2, 1), "dilation": (1, 2), "groups": 2,
                                "bias": False}, [(1, 4, 6, 7)]),
    ("Conv2d", (2, 3, 3), {"padding": "same"}, [(1, 2, 5, 4)]),
    ("Conv2d", (2, 3, 4), {"padding": "same", "dilation": 1}, [(1, 2, 6, 6)]),
    ("Conv2d", (2, 3, 3), {"padding": "valid"}, [(1, 2, 5, 4)]),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}, [(1, 2, 5, 4)]),
    ("Conv2d", (2, 3, 3), {"padding": 2, "padding_mode": "circular"}, [(1, 2, 5, 4)]),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "replicate"}, [(1, 2, 5, 4)]),
    ("Conv2d", (2, 3, 3), {}, [(2, 5, 5)]),
    ("ConvTranspose1d", (2, 3, 3), {"stride": 2}, [(2, 2, 4)]),
    ("ConvTranspose2d", (2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1},
     [(1, 2, 3, 3)]),
    ("ConvTranspose2d", (4, 2, 2), {"groups": 2, "dilation": 2}, [(1, 4, 3, 3)]),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, [(2, 3, 8)]),
    ("MaxPool2d", (2,), {}, [(2, 3, 4, 4)]),
    ("MaxPool2d", (3,), {"stride": 2, "ceil_mode": True}, [(1, 2, 6, 6)]),
    ("MaxPool2d", (2,), {}, [(3, 4, 4)]),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1}, [(2, 3, 8)]),
    ("AvgPool2d", (2,), {}, [(2, 3, 4, 4)]),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, [(1, 2, 5, 5)]),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, [(1, 2, 6, 6)]),
    ("AvgPool2d", (2,), {"divisor_override": 3}, [(1, 2, 4, 4)]),
    ("AdaptiveAvgPool1d", (3,), {}, [(2, 2, 7)]),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, [(2, 2, 5, 7)]),
    ("AdaptiveAvgPool2d", (1,), {}, [(2, 3, 4, 4)]),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, [(2, 2, 5, 7)]),
    ("BatchNorm1d", (3,), {}, [(4, 3)]),
    ("BatchNorm1d", (3,), {"affine": False}, [(4, 3, 5)]),
    ("BatchNorm2d", (3,), {}, [(2, 3, 4, 4)]),
    ("LayerNorm", (4,), {}, [(3, 4)]),
    ("LayerNorm", ((3, 4),), {"elementwise_affine": False}, [(2, 3, 4)]),
    ("GroupNorm", (2, 4), {}, [(2, 4, 3, 3)]),
    ("InstanceNorm2d", (3,), {}, [(2, 3, 4, 4)]),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, [(2, 3, 4, 4)]),
    ("RMSNorm", (4,), {}, [(3, 4)]),
    ("RMSNorm", ((2, 4),), {"eps": 1e-3}, [(3, 2, 4)]),
    ("ReLU", (), {}, [(3, 4)]),
    ("ReLU6", (), {}, [(3, 4)]),
    ("LeakyReLU", (0.2,), {}, [(3, 4)]),
    ("PReLU", (), {}, [(3, 4)]),
    ("PReLU", (3,), {}, [(2, 3, 4)]),
    ("ELU", (), {"alpha": 0.5}, [(3, 4)]),
    ("SELU", (), {}, [(3, 4)]),
    ("CELU", (), {"alpha": 2.0}, [(3, 4)]),
    ("GELU", (), {}, [(3, 4)]),
    ("GELU", (), {"approximate": "tanh"}, [(3, 4)]),
    ("SiLU", (), {}, [(3, 4)]),
    ("Mish", (), {}, [(3, 4)]),
    ("Sigmoid", (), {}, [(3, 4)]),
    ("Tanh", (), {}, [(3, 4)]),
    ("Hardtanh", (-0.5, 0.7), {}, [(3, 4)]),
    ("Hardswish", (), {}, [(3, 4)]),
    ("Hardsigmoid", (), {}, [(3, 4)]),
    ("Softplus", (2.0, 3.0), {}, [(3, 4)]),
    ("Softsign", (), {}, [(3, 4)]),
    ("Softmax", (1,), {}, [(3, 4)]),
    ("LogSoftmax", (-1,), {}, [(2, 3, 4)]),
    ("Softmin", (0,), {}, [(3, 4)]),
    ("GLU", (), {}, [(3, 4)]),
    ("Threshold", (0.1, 20.0), {}, [(3, 4)]),
    ("Hardshrink", (), {}, [(3, 4)]),
    ("Softshrink", (), {}, [(3, 4)]),
    ("Tanhshrink", (), {}, [(3, 4)]),
    ("LogSigmoid", (), {}, [(3, 4)]),
    ("PixelShuffle", (2,), {}, [(1, 8, 2, 3)]),
    ("PixelUnshuffle", (2,), {}, [(1, 2, 4, 6)]),
    ("Upsample", (), {"scale_factor": 2}, [(1, 2, 3, 3)]),
    ("Upsample", (), {"size": (5, 4), "mode": "bilinear"}, [(1, 2, 3, 3)]),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear", "align_corners": True},
     [(1, 2, 3, 3)]),
    ("Unfold", (2,), {"padding": 1, "stride": 2}, [(2, 3, 4, 4)]),
    ("Fold", ((4, 5), 2), {"stride": 1}, [(2, 12, 12)]),
    ("ZeroPad2d", ((1, 2, 0, 1),), {}, [(1, 2, 3, 3)]),
    ("ReflectionPad2d", (1,), {}, [(1, 2, 3, 3)]),
    ("ReplicationPad1d", ((2, 1),), {}, [(1, 2, 3)]),
    ("CosineSimilarity", (), {}, [(3, 4), (3, 4)]),
]


@pytest.mark.parametrize("name,args,kwargs,shapes", LAYERS,
                         ids=[f"{layer[0]}-{i}" for i, layer in enumerate(LAYERS)])
def test_layer_matches_torch(name, args, kwargs, shapes):
    e, t = both(name, *args, **kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    inputs = [rand(*s) for s in shapes]
    check_module(e, t, *inputs)


@pytest.mark.parametrize("name,args", [("BatchNorm1d", (3,)), ("BatchNorm2d", (3,))])
def test_batchnorm_running_stats_and_eval(name, args):
    e, t = both(name, *args, momentum=0.3)
    sync(e, t)
    shape = (4, 3) if name == "BatchNorm1d" else (2, 3, 3, 3)
    for _ in range(3):
        x = rand(*shape) * 2 + 1
        close(e(to_ember(x)), t(x))
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        close(e.state_dict()[key], t.state_dict()[key])
    e.eval(), t.eval()
    x = rand(*shape)
    close(e(to_ember(x)), t(x))


def test_batchnorm_cumulative_average_and_errors():
    e, t = both("BatchNorm1d", 2, momentum=None)
    sync(e, t)
    for _ in range(3):
        x = rand(5, 2)
        e(to_ember(x)), t(x)
    close(e.running_mean, t.running_mean)
    close(e.running_var, t.running_var)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        e(ember.ones(1, 2))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        e(ember.ones(1, 2, 3, 4))


def test_max_pool_return_indices():
    x = rand(2, 3, 5, 5)
    ey, ei = nn.MaxPool2d(2, return_indices=True)(to_ember(x))
    ty, ti = torch.nn.MaxPool2d(2, return_indices=True)(x)
    close(ey, ty)
    assert ei.dtype is ember.int64 and (ei.numpy() == ti.numpy()).all()
    ey, ei = nn.AdaptiveMaxPool2d(2, return_indices=True)(to_ember(x))
    ty, ti = torch.nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert (ei.numpy() == ti.numpy()).all()
    x = rand(2, 3, 4, 6)
    close(nn.MaxUnpool2d(2)(*nn.MaxPool2d(2, return_indices=True)(to_ember(x))),
          torch.nn.MaxUnpool2d(2)(*torch.nn.MaxPool2d(2, return_indices=True)(x)))


def test_dropout_train_and_eval():
    ember.manual_seed(0)
    d = nn.Dropout(0.5)
    x = ember.ones(2000)
    y = d(x)
    kept = y._data != 0
    assert 0.4 < kept.mean() < 0.6
    assert np.allclose(y._data[kept], 2.0)
    d.eval()
    assert d(x) is x
    d2 = nn.Dropout2d(0.5)
    y = d2(ember.ones(4, 50, 3, 3))
    per_channel = y._data.reshape(4, 50, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    ad = nn.AlphaDropout(0.2)
    x = ember.randn(20000)
    y = ad(x)
    assert abs(float(y.mean())) < 0.05 and abs(float(y._data.std()) - 1) < 0.05
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    x = ember.ones(3, requires_grad=True)
    out = nn.Dropout(0.0)(x)
    assert out is x


def test_embedding_matches_torch():
    e, t = both("Embedding", 6, 3, padding_idx=2)
    sync(e, t)
    idx = torch.tensor([[0, 2, 5], [2, 1, 1]])
    check_module(e, t, idx)
    assert repr(e) == repr(t)
    assert (nn.Embedding(5, 2, padding_idx=-1).weight._data[4] == 0).all()
    e2, t2 = both("Embedding", 5, 4, max_norm=1.0)
    sync(e2, t2)
    idx = torch.tensor([0, 1, 1, 3])
    close(e2(to_ember(idx)), t2(idx))
    close(e2.weight, t2.weight.detach())
    w = rand(4, 3)
    close(nn.Embedding.from_pretrained(to_ember(w))(ember.tensor([1, 3])),
          torch.nn.Embedding.from_pretrained(w)(torch.tensor([1, 3])))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode):
    e, t = both("EmbeddingBag", 7, 3, mode=mode)
    assert repr(e) == repr(t)
    sync(e, t)
    check_module(e, t, torch.tensor([[0, 2, 5], [2, 1, 1]]))
    inp, off = torch.tensor([1, 2, 4, 5, 4, 3]), torch.tensor([0, 2, 3])
    close(e(to_ember(inp), to_ember(off)), t(inp, off))


def test_layer_dtype_double():
    e, t = nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    x = torch.randn(4, 3, dtype=torch.float64)
    check_module(e, t, x)


def test_conv_errors_match_torch():
    e, t = both("Conv2d", 3, 4, 3)
    with pytest.raises(RuntimeError) as te:
        t(torch.ones(1, 2, 5, 5))
    with pytest.raises(RuntimeError) as ee:
        e(ember.ones(1, 2, 5, 5))
    assert str(ee.value) == str(te.value)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError) as te:
        torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 5))
    with pytest.raises(RuntimeError) as ee:
        nn.functional.linear(ember.ones(2, 3), ember.ones(4, 5))
    assert str(ee.value) == str(te.value)


def test_top_level_dropout():
    """torch.dropout(input, p, train): its own errors (RuntimeError, where F.dropout raises
    ValueError), the input itself when not training, and the kept elements scaled."""
    from tests._compare import same, same_error
    for p, train in ((1.5, True), (-0.1, False)):
        same_error(lambda T: T.dropout(T.ones(3), p, train), RuntimeError)
    same(lambda T: [T.dropout(x, 0.5, False) is x for x in [T.ones(3)]]
         + [T.dropout(x, 0.0, True) is x for x in [T.ones(3)]] + [T.dropout(T.ones(3), 1.0, True)])
    ember.manual_seed(0)
    x = ember.ones(2000, requires_grad=True)
    y = ember.dropout(x, 0.25, True)
    kept = y._data != 0
    assert 0.7 < kept.mean() < 0.8 and np.allclose(y._data[kept], 1 / 0.75)
    y.sum().backward()
    assert np.array_equal(x.grad._data, y._data)
