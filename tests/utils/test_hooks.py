"""ember.utils.hooks.RemovableHandle, as torch.utils.hooks's, and the handles every
register_*hook returns."""
import gc
import pickle
from collections import OrderedDict

import pytest
import torch

import ember
from ember.utils.hooks import RemovableHandle


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_removable_handle(T):
    Handle = T.utils.hooks.RemovableHandle
    hooks, extra1, extra2 = OrderedDict(), OrderedDict(), OrderedDict()
    h = Handle(hooks, extra_dict=[extra1, extra2])
    h2 = Handle(hooks, extra_dict=extra1)
    assert h2.id == h.id + 1
    hooks[h.id] = hooks[h2.id] = extra1[h.id] = extra2[h.id] = extra1[h2.id] = "f"
    with h:
        assert h.id in hooks
    assert h.id not in hooks and h.id not in extra1 and h.id not in extra2
    assert h2.id in hooks and h2.id in extra1
    h.remove()  # removing twice is harmless
    h2.remove()
    assert not hooks and not extra1


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_removable_handle_holds_its_dict_weakly(T):
    hooks = OrderedDict()
    h = T.utils.hooks.RemovableHandle(hooks)
    del hooks
    gc.collect()
    assert h.hooks_dict_ref() is None
    h.remove()


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_removable_handle_pickles(T):
    hooks = OrderedDict()
    h = T.utils.hooks.RemovableHandle(hooks)
    hooks[h.id] = 1
    h2, hooks2 = pickle.loads(pickle.dumps((h, hooks)))
    assert h2.id == h.id and h2.hooks_dict_ref() is hooks2
    h2.remove()
    assert not hooks2 and hooks


def test_every_hook_registration_returns_a_removable_handle():
    m = ember.nn.Linear(2, 2)
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    handles = [m.register_forward_hook(lambda *a: None, with_kwargs=True, always_call=True),
               m.register_forward_pre_hook(lambda *a: None, with_kwargs=True),
               m.register_full_backward_hook(lambda *a: None),
               m.register_full_backward_pre_hook(lambda *a: None),
               m.register_state_dict_post_hook(lambda *a: None),
               m.register_load_state_dict_pre_hook(lambda *a: None),
               opt.register_step_pre_hook(lambda *a: None),
               opt.register_step_post_hook(lambda *a: None),
               x.register_hook(lambda g: None), y.register_hook(lambda g: None),
               x.register_post_accumulate_grad_hook(lambda t: None),
               y.grad_fn.register_hook(lambda *a: None),
               y.grad_fn.register_prehook(lambda *a: None)]
    assert all(type(h) is RemovableHandle for h in handles)
    assert len({h.id for h in handles}) == len(handles)
    for h in handles:
        h.remove()
    assert not (m._forward_hooks or m._forward_hooks_with_kwargs
                or m._forward_hooks_always_called or m._forward_pre_hooks
                or m._forward_pre_hooks_with_kwargs or m._backward_hooks
                or m._backward_pre_hooks or opt._optimizer_step_pre_hooks
                or opt._optimizer_step_post_hooks)


def test_module_forward_hook_context_manager():
    def run(T):
        m = T.nn.Linear(2, 2)
        calls = []
        with m.register_forward_hook(lambda *a: calls.append(1)):
            m(T.ones(2))
        m(T.ones(2))
        return calls
    assert run(torch) == run(ember) == [1]
