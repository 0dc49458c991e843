"""The fast recurrent paths against torch: whole-sequence kernels (float32/float64),
their op-by-op replay under create_graph, and the fused-cell path of half precision.

Every check differentiates a loss that uses the outputs and the final states, so
each gradient path (through time, into h0/c0, into every weight) is compared.
"""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.nn.utils import rnn as ernn

from .helpers import sync, to_ember, to_numpy

RNG = np.random.default_rng(11)


def rand(*shape, dtype=np.float64):
    return torch.from_numpy(RNG.standard_normal(shape).astype(dtype))


def _loss(lib, out, hidden):
    # Weighted so that no gradient is a plain sum; every output and state contributes.
    w = lib.linspace(-1.0, 1.0, out.shape[-1], dtype=out.dtype)
    states = hidden if isinstance(hidden, tuple) else (hidden,)
    total = (out * out * w).sum()
    for k, s in enumerate(states):
        total = total + (s * (k + 2)).tanh().sum()
    return total


def _run_both(name, kwargs, x, hx=None, dtype=torch.float64, create_graph=False):
    t = getattr(torch.nn, name)(4, 5, **kwargs).to(dtype)
    e = getattr(nn, name)(4, 5, **kwargs, dtype=getattr(ember, str(dtype).split(".")[1]))
    sync(e, t)
    tx = x.clone().to(dtype).requires_grad_(True)
    ex = to_ember(tx, True)
    t_hx = e_hx = None
    if hx is not None:
        t_hx = tuple(h.to(dtype).requires_grad_(True) for h in hx) if isinstance(hx, tuple) \
            else hx.to(dtype).requires_grad_(True)
        e_hx = tuple(to_ember(h, True) for h in t_hx) if isinstance(hx, tuple) \
            else to_ember(t_hx, True)
    results = []
    for lib, m, xx, hh in ((torch, t, tx, t_hx), (ember, e, ex, e_hx)):
        out, hidden = m(xx, hh)
        leaves = [xx] + list(m.parameters())
        if hh is not None:
            leaves += list(hh) if isinstance(hh, tuple) else [hh]
        grads = lib.autograd.grad(_loss(lib, out, hidden), leaves, create_graph=create_graph)
        if create_graph:
            second = sum((g * g).sum() for g in grads)
            grads = grads + lib.autograd.grad(second, leaves)
        states = hidden if isinstance(hidden, tuple) else (hidden,)
        results.append([out, *states, *grads])
    return results


def _assert_same(results, atol, rtol):
    for k, (e, t) in enumerate(zip(results[1], results[0])):
        assert tuple(e.shape) == tuple(t.shape), k
        assert str(e.dtype) == str(t.dtype), k
        np.testing.assert_allclose(to_numpy(e), to_numpy(t), atol=atol, rtol=rtol,
                                   err_msg=f"result {k}")


CONFIGS = [
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 3, "batch_first": True}),
    ("LSTM", {"proj_size": 2, "bidirectional": True, "bias": False}),
    ("GRU", {}), ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("GRU", {"bias": False}),
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "bidirectional": True, "num_layers": 2}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'plain'}" for n, kw in CONFIGS]


def _input(kwargs, steps=6, batch=3):
    return rand(batch, steps, 4) if kwargs.get("batch_first") else rand(steps, batch, 4)


def _initial(name, kwargs, batch=3):
    d = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1)
    h = rand(d * layers, batch, kwargs.get("proj_size") or 5)
    return (h, rand(d * layers, batch, 5)) if name == "LSTM" else h


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_layers_match_torch_float64(name, kwargs):
    _assert_same(_run_both(name, kwargs, _input(kwargs)), 1e-10, 1e-9)
    _assert_same(_run_both(name, kwargs, _input(kwargs), _initial(name, kwargs)), 1e-10, 1e-9)


@pytest.mark.parametrize("name,kwargs", CONFIGS[::2], ids=IDS[::2])
def test_layers_match_torch_float32(name, kwargs):
    _assert_same(_run_both(name, kwargs, _input(kwargs), _initial(name, kwargs),
                           dtype=torch.float32), 2e-5, 1e-4)


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_second_derivatives_match_torch(name, kwargs):
    _assert_same(_run_both(name, kwargs, _input(kwargs, steps=4, batch=2),
                           _initial(name, kwargs, batch=2), create_graph=True), 1e-9, 1e-8)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_unbatched_input_matches_torch(name):
    kwargs = {"bidirectional": True}
    hx = _initial(name, kwargs, batch=1)
    hx = tuple(h[:, 0] for h in hx) if isinstance(hx, tuple) else hx[:, 0]
    _assert_same(_run_both(name, kwargs, rand(6, 4), hx), 1e-10, 1e-9)


@pytest.mark.parametrize("name,kwargs", [("LSTM", {"bidirectional": True, "proj_size": 3}),
                                         ("GRU", {"bidirectional": True, "num_layers": 2}),
                                         ("RNN", {"nonlinearity": "relu"})])
@pytest.mark.parametrize("create_graph", [False, True])
def test_packed_sequences_match_torch(name, kwargs, create_graph):
    t = getattr(torch.nn, name)(4, 5, **kwargs).double()
    e = getattr(nn, name)(4, 5, **kwargs, dtype=ember.float64)
    sync(e, t)
    seqs = [rand(n, 4) for n in (3, 6, 1, 4)]
    t_seqs = [s.clone().requires_grad_(True) for s in seqs]
    e_seqs = [to_ember(s, True) for s in seqs]
    hx = _initial(name, kwargs, batch=4)
    t_hx = tuple(h.clone().requires_grad_(True) for h in hx) if name == "LSTM" else \
        hx.clone().requires_grad_(True)
    e_hx = tuple(to_ember(h, True) for h in t_hx) if name == "LSTM" else to_ember(t_hx, True)
    results = []
    for lib, pack, m, ss, hh in ((torch, torch.nn.utils.rnn, t, t_seqs, t_hx),
                                 (ember, ernn, e, e_seqs, e_hx)):
        out, hidden = m(pack.pack_sequence(ss, enforce_sorted=False), hh)
        padded, _ = pack.pad_packed_sequence(out)
        leaves = list(ss) + list(m.parameters()) + (list(hh) if name == "LSTM" else [hh])
        grads = lib.autograd.grad(_loss(lib, padded, hidden), leaves, create_graph=create_graph)
        if create_graph:
            grads = grads + lib.autograd.grad(sum((g * g).sum() for g in grads), leaves)
        states = hidden if isinstance(hidden, tuple) else (hidden,)
        results.append([out.data, *states, *grads])
    _assert_same(results, 1e-10, 1e-9)


def test_gradient_of_final_state_only():
    # The output is unused: its gradient reaches the layer as zeros.
    t, e = torch.nn.LSTM(4, 5, num_layers=2).double(), nn.LSTM(4, 5, num_layers=2,
                                                              dtype=ember.float64)
    sync(e, t)
    x = rand(5, 2, 4)
    t_x, e_x = x.clone().requires_grad_(True), to_ember(x, True)
    t(t_x)[1][1].sum().backward()
    e(e_x)[1][1].sum().backward()
    np.testing.assert_allclose(to_numpy(e_x.grad), to_numpy(t_x.grad), atol=1e-12)
    for (name, ep), tp in zip(e.named_parameters(), t.parameters()):
        np.testing.assert_allclose(to_numpy(ep.grad), to_numpy(tp.grad), atol=1e-12,
                                   err_msg=name)


def test_retain_graph_twice_and_frozen_weights():
    t = torch.nn.GRU(4, 5, bidirectional=True).double()
    e = nn.GRU(4, 5, bidirectional=True, dtype=ember.float64)
    sync(e, t)
    x = rand(5, 2, 4)
    results = []
    for m, xx in ((t, x.clone().requires_grad_(True)), (e, to_ember(x, True))):
        m.weight_ih_l0.requires_grad_(False)
        out, h = m(xx)
        loss = (out * out).sum() + h.sum()
        loss.backward(retain_graph=True)
        first = [p.grad.clone() for p in m.parameters() if p.requires_grad] + [xx.grad.clone()]
        loss.backward()   # a second pass through the retained graph accumulates
        second = [p.grad for p in m.parameters() if p.requires_grad] + [xx.grad]
        assert m.weight_ih_l0.grad is None
        results.append(first + second)
    _assert_same(results, 1e-12, 1e-12)


def test_bias_gradients_do_not_alias():
    # The fused kernel computes one gradient for both biases; each must get its own copy.
    t, e = torch.nn.LSTM(4, 5), nn.LSTM(4, 5)
    sync(e, t)
    x = rand(3, 2, 4, dtype=np.float32)
    t(x)[0].sum().backward()
    e(to_ember(x))[0].sum().backward()
    e.bias_ih_l0.grad.mul_(0)
    t.bias_ih_l0.grad.mul_(0)
    _assert_same([[t.bias_hh_l0.grad, t.bias_ih_l0.grad], [e.bias_hh_l0.grad, e.bias_ih_l0.grad]],
                 1e-6, 1e-5)
    assert float(e.bias_hh_l0.grad.abs().sum()) > 0


def test_dropout_between_layers():
    # p=1 zeroes the first layer's output in both libraries: deterministic.
    t = torch.nn.LSTM(4, 5, num_layers=2, dropout=1.0).double()
    e = nn.LSTM(4, 5, num_layers=2, dropout=1.0, dtype=ember.float64)
    sync(e, t)
    x = rand(5, 2, 4)
    _assert_same([list(t(x)[0:1]), list(e(to_ember(x))[0:1])], 1e-12, 1e-12)
    e.eval()
    t.eval()
    _assert_same([list(t(x)[0:1]), list(e(to_ember(x))[0:1])], 1e-12, 1e-12)


def test_in_place_change_of_a_saved_weight_is_detected():
    messages = []
    for lib, m in ((torch, torch.nn.LSTM(4, 5)), (ember, nn.LSTM(4, 5))):
        out, _ = m(lib.ones(3, 2, 4))
        with lib.no_grad():
            m.weight_hh_l0.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as err:
            out.sum().backward()
        messages.append(str(err.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_half_precision_layers_match_torch(name):
    # bfloat16 takes the op-by-op path in Ember, rounding after every op; torch's kernel
    # rounds elsewhere. Gradients summed over steps and batch lose bits to cancellation:
    # over 30 seeds each library stays within 2**-6 of the largest entry of torch's
    # float64 result, so the two must agree within 2**-5 of it.
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(4, 5, num_layers=2, bidirectional=True)
    e = getattr(nn, name)(4, 5, num_layers=2, bidirectional=True)
    sync(e, t)
    t.to(torch.bfloat16)
    e.to(ember.bfloat16)
    x = rand(6, 3, 4, dtype=np.float32).to(torch.bfloat16)
    t_x = x.clone().requires_grad_(True)
    e_x = ember.tensor(x.float().numpy()).to(ember.bfloat16).requires_grad_(True)
    results = []
    for m, xx in ((t, t_x), (e, e_x)):
        out, hidden = m(xx)
        states = hidden if isinstance(hidden, tuple) else (hidden,)
        (out.sum() + sum(s.sum() for s in states)).backward()
        results.append([out, *states, xx.grad, *(p.grad for p in m.parameters())])
    for k, (eo, to) in enumerate(zip(*results[::-1])):
        assert eo.dtype is ember.bfloat16 and to.dtype is torch.bfloat16, k
        assert tuple(eo.shape) == tuple(to.shape), k
        want = to_numpy(to.float())
        np.testing.assert_allclose(to_numpy(eo.float()), want, rtol=1.6e-2,
                                   atol=2 ** -5 * np.abs(want).max(), err_msg=f"result {k}")


def test_no_grad_inference_matches_torch():
    t, e = torch.nn.LSTM(4, 5, proj_size=2), nn.LSTM(4, 5, proj_size=2)
    sync(e, t)
    x = rand(5, 2, 4, dtype=np.float32)
    with torch.no_grad():
        t_out, (t_h, t_c) = t(x)
    with ember.no_grad():
        e_out, (e_h, e_c) = e(to_ember(x))
    assert not e_out.requires_grad
    _assert_same([[t_out, t_h, t_c], [e_out, e_h, e_c]], 1e-6, 1e-5)


@pytest.mark.parametrize("fn", ["rnn_tanh_cell", "rnn_relu_cell"])
def test_rnn_cell_functions_match_torch(fn):
    args = [rand(3, 4), rand(3, 5), rand(5, 4), rand(5, 5), rand(5), rand(5)]
    t_args = [a.clone().requires_grad_(True) for a in args]
    e_args = [to_ember(a, True) for a in t_args]
    t_out, e_out = getattr(torch, fn)(*t_args), getattr(ember, fn)(*e_args)
    t_g = torch.autograd.grad((t_out * t_out).sum(), t_args)
    e_g = ember.autograd.grad((e_out * e_out).sum(), e_args)
    _assert_same([[t_out, *t_g], [e_out, *e_g]], 1e-12, 1e-12)


def test_forward_mode_jvp_matches_torch():
    # Forward mode is built on the double vjp, i.e. on the create_graph replay.
    t, e = torch.nn.GRU(4, 5).double(), nn.GRU(4, 5, dtype=ember.float64)
    sync(e, t)
    x, v = rand(4, 2, 4), rand(4, 2, 4)
    t_out, t_tan = torch.func.jvp(lambda a: t(a)[0], (x,), (v,))
    e_out, e_tan = ember.func.jvp(lambda a: e(a)[0], (to_ember(x),), (to_ember(v),))
    _assert_same([[t_out, t_tan], [e_out, e_tan]], 1e-10, 1e-9)


def test_workspace_is_freed_after_backward():
    e = nn.LSTM(4, 5)
    out, _ = e(ember.randn(3, 2, 4))
    node = out.grad_fn
    while not hasattr(node, "workspace"):
        node = node.next_functions[0][0]
    assert node.workspace is not None
    out.sum().backward()
    assert node.workspace is None
