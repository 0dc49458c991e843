"""ember.nn.utils.prune against torch.nn.utils.prune: masks of the deterministic methods,
the orig/mask/pre-hook mechanism and state_dict keys, iterative pruning, errors; the
random methods by their properties."""
import importlib

import numpy as np
import pytest

import torch

import ember
from tests._compare import outcome, same

W = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")


def _prune(lib):
    return importlib.import_module(lib.__name__ + ".nn.utils.prune")


def _linear(lib):
    m = lib.nn.Linear(6, 4)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(W))
        m.bias.copy_(lib.tensor([0.5, -2.0, 1.0, 0.1]))
    return m


def _layout(m):
    return (sorted(m.state_dict()), [n for n, _ in m.named_parameters()],
            [n for n, _ in m.named_buffers()])


def test_l1_unstructured_mask_and_mechanism():
    def f(lib):
        prune = _prune(lib)
        m = _linear(lib)
        returned = prune.l1_unstructured(m, "weight", amount=0.3)
        hooks = list(m._forward_pre_hooks.values())
        return (returned is m, _layout(m), m.weight_mask, m.weight, type(hooks[0]).__name__,
                hooks[0]._tensor_name, prune.is_pruned(m), "weight" in m._parameters)
    same(f)


def test_iterative_pruning_uses_a_container_and_gradients_reach_orig():
    def f(lib):
        prune = _prune(lib)
        m = _linear(lib)
        prune.l1_unstructured(m, "weight", amount=0.3)
        prune.ln_structured(m, "weight", amount=1, n=2, dim=0)
        prune.l1_unstructured(m, "weight", amount=2)
        hook = list(m._forward_pre_hooks.values())
        y = m(lib.ones(2, 6))
        y.sum().backward()
        return (len(hook), type(hook[0]).__name__, [type(h).__name__ for h in hook[0]],
                m.weight_mask, y, m.weight_orig.grad, m.weight.grad_fn is not None)
    same(f)


def test_remove_makes_pruning_permanent():
    def f(lib):
        prune = _prune(lib)
        m = _linear(lib)
        prune.ln_structured(m, "weight", amount=0.5, n=1, dim=1)
        prune.remove(m, "weight")
        return _layout(m), m.weight, prune.is_pruned(m), type(m.weight).__name__
    same(f)


@pytest.mark.parametrize("n", [1, 2, float("inf"), -1])
def test_ln_structured_masks(n):
    same(lambda lib: _prune(lib).ln_structured(_linear(lib), "weight", 2, n, dim=-1).weight_mask)


def test_custom_global_and_importance_scores():
    def f(lib):
        prune = _prune(lib)
        m = _linear(lib)
        prune.custom_from_mask(m, "bias", mask=lib.tensor([1.0, 0, 1, 0]))
        m1, m2 = _linear(lib), _linear(lib)
        with lib.no_grad():  # no ties between the two modules' entries
            m2.weight.mul_(1.5)
        prune.l1_unstructured(m2, "weight", amount=3)
        prune.global_unstructured([(m1, "weight"), (m2, "weight"), (m2, "bias")],
                                  pruning_method=prune.L1Unstructured, amount=0.4)
        m3 = _linear(lib)
        prune.l1_unstructured(m3, "weight", amount=5,
                              importance_scores=lib.arange(24.0).view(4, 6))
        m4 = _linear(lib)
        prune.global_unstructured([(m4, "weight")], prune.L1Unstructured,
                                  importance_scores={(m4, "weight"): lib.arange(24.0).view(4, 6)},
                                  amount=4)
        return (m.bias, m1.weight_mask, m2.weight_mask, m2.bias_mask, m3.weight_mask,
                m4.weight_mask, prune.L1Unstructured(amount=2).prune(lib.tensor([[1.0, -3.0],
                                                                                 [2.0, 0.5]])))
    same(f)


def test_identity_and_state_dict_round_trip():
    def f(lib):
        prune = _prune(lib)
        m = _linear(lib)
        prune.identity(m, "bias")
        prune.l1_unstructured(m, "weight", 0.5)
        sd = m.state_dict()
        m2 = _linear(lib)
        prune.identity(m2, "bias")
        prune.identity(m2, "weight")
        m2.load_state_dict(sd)
        return m2(lib.ones(1, 6)), m2.weight_mask, m.bias_mask
    same(f)


def test_random_methods_properties():
    prune = _prune(ember)
    m = _linear(ember)
    prune.random_unstructured(m, "weight", amount=0.5)
    assert m.weight_mask.sum().item() == 12
    prune.random_unstructured(m, "weight", amount=3)  # acts on the 12 left
    assert m.weight_mask.sum().item() == 9
    m = _linear(ember)
    prune.random_structured(m, "weight", amount=2, dim=1)
    cols = m.weight_mask.sum(0).tolist()
    assert cols.count(0.0) == 2 and cols.count(4.0) == 4
    assert type(list(m._forward_pre_hooks.values())[0]).__name__ == "RandomStructured"


@pytest.mark.parametrize("case", range(8))
def test_errors(case):
    def f(lib):
        prune = _prune(lib)
        m = _linear(lib)
        return [lambda: prune.l1_unstructured(m, "weight", amount=1.5),
                lambda: prune.l1_unstructured(m, "weight", amount=100),
                lambda: prune.ln_structured(m, "bias", amount=1, n=2, dim=0),
                lambda: prune.remove(m, "weight"),
                lambda: prune.l1_unstructured(m, "weight", amount="a"),
                lambda: prune.ln_structured(m, "weight", 1, 2, dim=5),
                lambda: prune.global_unstructured([(m, "weight")], prune.LnStructured,
                                                  amount=1, n=1, dim=0),
                lambda: prune.l1_unstructured(m, "weight", 1, importance_scores=lib.ones(3)),
                ][case]()
    t, e = outcome(f, torch), outcome(f, ember)
    assert t[0] == "error"
    # Messages naming a class name its module (torch.nn... / ember.nn...).
    assert e == (t[0], t[1], t[2].replace("torch.nn.", "ember.nn."))
