"""grad_fn._saved_<name> / _raw_saved_<name>: torch's names and values for what a node
saved, compared with torch for common ops."""
import numpy as np
import pytest
import torch

import ember
from tests._compare import same


def _inputs(lib):
    r = np.random.default_rng(0)
    x = lib.tensor(r.standard_normal((3, 4)).astype("float32"), requires_grad=True)
    y = lib.tensor(r.uniform(0.5, 2, (3, 4)).astype("float32"), requires_grad=True)
    m = lib.tensor(r.standard_normal((4, 2)).astype("float32"), requires_grad=True)
    return x, y, m


CASES = {
    "mul": lambda lib, x, y, m: x * y,
    "mul_scalar": lambda lib, x, y, m: x * 2.0,
    "mul_one_needs_grad": lambda lib, x, y, m: x * y.detach(),
    "div": lambda lib, x, y, m: x / y,
    "div_scalar": lambda lib, x, y, m: x / 2,
    "pow": lambda lib, x, y, m: x ** 2,
    "pow_tensor": lambda lib, x, y, m: y ** x,
    "exp": lambda lib, x, y, m: x.exp(),
    "tanh": lambda lib, x, y, m: x.tanh(),
    "sigmoid": lambda lib, x, y, m: lib.sigmoid(x),
    "log": lambda lib, x, y, m: y.log(),
    "sqrt": lambda lib, x, y, m: y.sqrt(),
    "sum": lambda lib, x, y, m: x.sum(),
    "sum_dim": lambda lib, x, y, m: x.sum(1, keepdim=True),
    "mean_dim": lambda lib, x, y, m: x.mean(1),
    "mean": lambda lib, x, y, m: x.mean(),
    "mm": lambda lib, x, y, m: x.mm(m),
    "matmul": lambda lib, x, y, m: x @ m,
    "linear": lambda lib, x, y, m: lib.nn.functional.linear(x, m.t()),
    "cat": lambda lib, x, y, m: lib.cat([x, y], 1),
    "softmax": lambda lib, x, y, m: x.softmax(1),
    "log_softmax": lambda lib, x, y, m: lib.nn.functional.log_softmax(x, dim=0),
    "relu": lambda lib, x, y, m: lib.relu(x),
    "add_alpha": lambda lib, x, y, m: lib.add(x, y, alpha=2),
    "add": lambda lib, x, y, m: x + y,
    "sub": lambda lib, x, y, m: x - 1,
    "clamp": lambda lib, x, y, m: x.clamp(-1, 1),
    "clamp_min": lambda lib, x, y, m: x.clamp(min=0.5),
    "index_select": lambda lib, x, y, m: x.index_select(1, lib.tensor([0, 2])),
    "view": lambda lib, x, y, m: x.view(12),
}


def _saved_attrs(lib, name):
    x, y, m = _inputs(lib)
    out = CASES[name](lib, x, y, m)
    g = out.grad_fn
    names = [a for a in dir(torch_node(name)) if a.startswith("_saved_")]
    values = []
    for a in names:
        v = getattr(g, a)
        if isinstance(v, (torch.Tensor, ember.Tensor)):
            shown = "is input" if v is x else "is output" if v is out else (
                str(v.dtype), v.requires_grad,
                np.round(v.detach().numpy().astype("float64"), 4).tolist())  # ulps apart
            values.append((a, shown, type(v.grad_fn).__name__ if v.grad_fn is not None else None))
        else:
            values.append((a, type(v).__name__, v))
    return type(g).__name__, values


_TORCH_NODES = {}


def torch_node(name):
    if name not in _TORCH_NODES:
        _TORCH_NODES[name] = CASES[name](torch, *_inputs(torch)).grad_fn
    return _TORCH_NODES[name]


@pytest.mark.parametrize("name", list(CASES))
def test_saved_attributes_as_torch(name):
    same(lambda lib: _saved_attrs(lib, name))


def test_unknown_attribute_raises_attribute_error():
    same(lambda lib: (lib.ones(2, requires_grad=True) * 2).grad_fn._saved_foo)
    same(lambda lib: (lib.ones(2, requires_grad=True) * 2).grad_fn._saved_result)
    same(lambda lib: lib.ones(2, requires_grad=True).exp().grad_fn._raw_saved_self)


def test_saved_after_free_and_after_inplace():
    def freed(lib):
        x = lib.ones(2, requires_grad=True)
        y = x * x
        y.sum().backward()
        return y.grad_fn._saved_self

    def modified(lib):
        x = lib.ones(2, requires_grad=True)
        z = x * 1
        y = z * z
        z.add_(1)
        return y.grad_fn._saved_self
    same(freed)
    same(modified)


def test_raw_saved_register_hooks():
    def f(lib):
        log = []
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x.detach().requires_grad_()
        g = y.grad_fn
        r = g._raw_saved_self
        r.register_hooks(lambda t: (log.append("pack"), t * 10)[1],
                         lambda p: (log.append("unpack"), p)[1])
        first = (g._saved_self, list(log))
        try:
            r.register_hooks(lambda t: t, lambda t: t)
        except RuntimeError as e:
            again = str(e)
        y.sum().backward()
        e = x.exp()
        e.grad_fn._raw_saved_result.register_hooks(lambda t: t * 0, lambda p: p)
        res = e.grad_fn._saved_result
        e.sum().backward()
        return first, again, x.grad, log, res, type(res.grad_fn).__name__

    def errors(lib):
        x = lib.ones(2, requires_grad=True)
        y = x * x
        y.sum().backward()
        out = []
        for fn in (lambda: y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t),
                   lambda: (x * 2.0).grad_fn._raw_saved_self.register_hooks(lambda t: t,
                                                                             lambda t: t)):
            try:
                fn()
            except RuntimeError as e:
                out.append(str(e))
        return out
    same(f)
    same(errors)
