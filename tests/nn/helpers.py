"""Shared helpers: build the same module in ember and torch with the same weights."""
import numpy as np
import torch

import ember


def to_ember(t, requires_grad=False):
    e = ember.tensor(t.detach().numpy().copy())
    if requires_grad:
        e.requires_grad_(True)
    return e


def to_numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach()._data)


def sync(ember_module, torch_module):
    """Copy torch's state_dict into the ember module (values via NumPy)."""
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_module.state_dict().items()}
    ember_module.load_state_dict(sd)
    return ember_module


def close(e, t, atol=1e-5, rtol=1e-4):
    assert tuple(e.shape) == tuple(t.shape), (tuple(e.shape), tuple(t.shape))
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), atol=atol, rtol=rtol)


def check_module(ember_module, torch_module, *inputs, atol=1e-5, rtol=1e-4, grad=True,
                 seed=0):
    """Same weights, same inputs: outputs, input grads and parameter grads match."""
    sync(ember_module, torch_module)
    t_in = [x.clone().requires_grad_(grad and x.is_floating_point()) if isinstance(x, torch.Tensor)
            else x for x in inputs]
    e_in = [to_ember(x, grad and x.is_floating_point()) if isinstance(x, torch.Tensor) else x
            for x in inputs]
    t_out = torch_module(*t_in)
    e_out = ember_module(*e_in)
    if isinstance(t_out, tuple):
        t_out, e_out = t_out[0], e_out[0]
    close(e_out, t_out, atol, rtol)
    if not grad:
        return e_out, t_out
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(tuple(t_out.shape)).astype(to_numpy(t_out).dtype)
    (t_out * torch.from_numpy(v)).sum().backward()
    (e_out * ember.tensor(v)).sum().backward()
    for ei, ti in zip(e_in, t_in):
        if isinstance(ti, torch.Tensor) and ti.requires_grad:
            close(ei.grad, ti.grad, atol * 10, rtol * 10)
    tp = dict(torch_module.named_parameters())
    for name, p in ember_module.named_parameters():
        if tp[name].grad is None:
            assert p.grad is None, name
        else:
            close(p.grad, tp[name].grad, atol * 10, rtol * 10)
    return e_out, t_out
