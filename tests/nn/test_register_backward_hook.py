"""Module.register_backward_hook (torch's deprecated, non-full form): the hook sees the
gradients of the grad_fn of the module's output; warnings, mixing rules; and F.linear's
AddmmBackward0 node that it sees for Linear; compared with torch."""
import warnings

import numpy as np

from tests._compare import same


def _show(t):
    return None if t is None else (tuple(t.shape), np.round(t.detach().numpy().astype(float),
                                                             4).tolist())


def _linear(lib, bias=True):
    m = lib.nn.Linear(3, 2, bias=bias)
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, -6.0]]))
        if bias:
            m.bias.copy_(lib.tensor([0.5, -0.5]))
    return m


def _run(lib, module, x, hook_result=None):
    calls = []

    def hook(m, grad_input, grad_output):
        calls.append((type(m).__name__, [_show(g) for g in grad_input],
                      [_show(g) for g in grad_output]))
        return hook_result(grad_input) if hook_result else None
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        module.register_backward_hook(hook)
        y = module(x)
        (y * lib.arange(1.0, y.numel() + 1).view(y.shape)).sum().backward()
    return (type(y.grad_fn).__name__, calls, _show(x.grad),
            [(i.category.__name__, str(i.message)) for i in w])


def test_linear_sees_addmm_gradients():
    same(lambda lib: _run(lib, _linear(lib), lib.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]],
                                                         requires_grad=True)))
    same(lambda lib: _run(lib, _linear(lib, bias=False),
                          lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)))


def test_single_node_module_and_replaced_grad_input():
    same(lambda lib: _run(lib, lib.nn.Tanh(), lib.tensor([1.0, -2.0], requires_grad=True)))
    same(lambda lib: _run(lib, lib.nn.Tanh(), lib.tensor([1.0, -2.0], requires_grad=True),
                          lambda gi: (gi[0] * 3,)))


def test_container_warns_and_hooks_its_last_node():
    same(lambda lib: _run(lib, lib.nn.Sequential(_linear(lib), lib.nn.Tanh()),
                          lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)))


def test_cannot_mix_with_full_hooks():
    def f(lib):
        out = []
        m = _linear(lib)
        h = m.register_backward_hook(lambda *a: None)
        h.remove()
        for fn in (lambda: m.register_full_backward_hook(lambda *a: None),
                   lambda: lib.nn.ReLU().register_full_backward_hook(lambda *a: None),
                   ):
            try:
                fn()
                out.append("ok")
            except RuntimeError as e:
                out.append(str(e))
        r = lib.nn.ReLU()
        r.register_full_backward_hook(lambda *a: None)
        try:
            r.register_backward_hook(lambda *a: None)
        except RuntimeError as e:
            out.append(str(e))
        return out
    same(f)


def test_linear_graph_as_torch():
    def f(lib):
        x = lib.ones(4, 3, requires_grad=True)
        y = _linear(lib)(x)
        y3 = _linear(lib)(lib.ones(2, 2, 3))
        strided = _linear(lib)(lib.ones(2, 2, 3).transpose(0, 1))
        return (type(strided.grad_fn).__name__, type(y.grad_fn).__name__,
                [type(n).__name__ for n, _ in y.grad_fn.next_functions],
                type(y3.grad_fn).__name__ if y3.grad_fn else None,
                y.grad_fn._saved_alpha, y.grad_fn._saved_beta,
                y.grad_fn._saved_mat1_sym_sizes, y.grad_fn._saved_mat2_sym_strides)
    same(f)
