"""The Optimizer base class: parameter groups, per-parameter state, state_dict.

Each concrete optimizer splits its work as torch's do: ``step`` walks the groups and
collects each group's parameters, gradients and state; a module-level function (``_sgd``,
``_adam``, ...) applies the algorithm to lists of raw arrays of the parameters' array
module (NumPy or CuPy), in place: torch's foreach idea.  Working on arrays keeps the step
cheap (no graph, no dispatch) and device-agnostic; the parameters' version counters are
bumped as an in-place op would.  The temporaries an algorithm needs come from a
``_Scratch`` shared by all parameters of the step, so that large ones are not fresh
arrays every step (fresh arrays of a few MiB page-fault on every first touch).

``foreach`` (torch's argument) picks between one call per group (True, and None, the
default: on NumPy it gives the same numbers and saves the per-parameter set-up) and one
call per parameter (False); both run the same arithmetic, so they agree bit for bit.
Since the update bypasses Ember's ops, a tracer of ops (``ember.compile``) does not see
it: it should call ``Optimizer._step_group(group)`` (one group's whole update on raw
arrays) as one opaque step.
"""
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

from .. import _dtype as D
from .._device import array_module, device_of, device_scope
from .._tensor import Tensor, _make
from ..autograd.grad_mode import no_grad
from ..utils.hooks import add_hook


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _scalar_state(value):
    """A 0-dim host tensor, as torch keeps ``state['step']``: float32, or float64 when that
    is the default dtype."""
    import numpy as np
    from .. import _dtype as D
    dtype = np.float64 if D.get_default_dtype() is D.float64 else np.float32
    return _make(np.array(value, dtype=dtype))


def _zeros_state(p):
    """A zero tensor shaped like ``p`` on ``p``'s device (torch's ``zeros_like``)."""
    return _make(_zeros_like_array(p._data))


def _zeros_like_array(a):
    out = a.copy()
    out[...] = 0
    return out


def _bump(p):
    """Record an in-place write into ``p`` (autograd's saved-tensor checks read it)."""
    p._vc[0] += 1


def _step_value(state):
    """Increment ``state['step']`` (a float32 0-dim tensor) and return it as a float."""
    step = state["step"]
    step._data += 1
    return float(step._data)


class _Scratch:
    """Temporaries shaped like a parameter, carved from one flat array per (slot, dtype,
    device) that grows to the largest parameter and is kept between steps.  Small
    temporaries are fresh arrays: the allocator serves those from recently freed memory,
    hot in cache, where a kept array may have gone cold during the forward and backward."""

    __slots__ = ("_flat",)
    # glibc's default threshold for serving an allocation by mmap (page faults on every
    # first touch of a fresh array).
    _SMALL = 1 << 17

    def __init__(self):
        self._flat = {}

    def __call__(self, like, slot=0):
        if like.nbytes < self._SMALL:
            return array_module(like).empty(like.shape, like.dtype)
        key = (slot, like.dtype, device_of(like))
        flat = self._flat.get(key)
        if flat is None or flat.size < like.size:
            flat = self._flat[key] = array_module(like).empty(like.size, like.dtype)
        return flat[:like.size].reshape(like.shape)


def _effective_grad(param, grad, tmp, *, maximize, weight_decay, lr=None, decoupled=False):
    """The gradient an update follows (``grad`` itself or ``tmp``, never writing into
    ``grad``): negated under ``maximize``, plus the L2 term ``weight_decay * param``;
    decoupled decay (AdamW's) shrinks ``param`` in place instead."""
    xp = array_module(param)
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            # grad + wd * param, and wd * param - grad under maximize: the same sums
            # (IEEE addition commutes and a + (-b) is a - b).
            out = xp.multiply(param, weight_decay, out=tmp)
            if maximize:
                out -= grad
            else:
                out += grad
            return out
    if maximize:
        return xp.negative(grad, out=tmp)
    return grad


def _square_avg_(avg, value, decay, tmp):
    """``avg.mul_(decay).addcmul_(value, value, value=1 - decay)``, in place (``tmp`` is
    scratch shaped like ``avg``)."""
    avg *= decay
    t = array_module(avg).multiply(value, 1 - decay, out=tmp)
    t *= value
    avg += t


def _lerp_(start, end, weight, tmp):
    """``start.lerp_(end, weight)`` with torch's two-sided formula (exact at weight 1)."""
    xp = array_module(start)
    t = xp.subtract(end, start, out=tmp)
    if weight < 0.5:
        t *= weight
        start += t
    else:
        t *= 1.0 - weight
        xp.subtract(end, t, out=start)


def _adam_moments_(param, grad, exp_avg, exp_avg_sq, scratch, *, beta1, beta2, **decay):
    """The first phase of Adam and its variants for one parameter: weight decay, then the
    two running moments of the gradient, in place.  Returns the effective gradient and
    the two scratch arrays (the gradient may be the first)."""
    t0, t1 = scratch(param, 0), scratch(param, 1)
    grad = _effective_grad(param, grad, t0, **decay)
    _lerp_(exp_avg, grad, 1 - beta1, t1)
    _square_avg_(exp_avg_sq, grad, beta2, t1)
    return grad, t0, t1


def _check_foreach_fused(foreach, fused, differentiable):
    """torch's constructor checks of ``fused`` (the optimizers that have a fused kernel)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, of dicts (parameter groups with their own
    options), or of ``(name, tensor)`` pairs; ``defaults`` fills the options a group
    does not set.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with 'params' and optional options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        named = [isinstance(p, tuple) for p in param_group["params"]]
        if any(named):
            if not all(named):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = [n for n, _ in param_group["params"]]
            param_group["params"] = [p for _, p in param_group["params"]]
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        existing = set()
        for group in self.param_groups:
            existing.update(id(p) for p in group["params"])
        if any(id(p) in existing for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors (to None by default)."""
        if set_to_none:
            for group in self.param_groups:
                for p in group["params"]:
                    p._grad = None
            return
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    g = p._grad
                    if g._grad_fn is not None:
                        g = g.detach()
                        p._grad = g
                    if g.is_sparse:
                        g.zero_()
                        continue
                    g._data[...] = 0
                    _bump(g)

    # ---- state_dict -----------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``."""
        index_of = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = list(range(start, start + len(group["params"])))
            index_of.update({id(p): i for p, i in zip(group["params"], ids)})
            packed["params"] = ids
            start += len(ids)
            groups.append(packed)
        state = {index_of[id(p)]: s for p, s in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()``.  As torch: state tensors move to each parameter's
        device and (for a floating-point parameter) dtype, which shares them with
        ``state_dict`` when both already match (later steps update them there too); the
        param groups are copied."""
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        # 'step' stays where it was saved (a CPU scalar) unless the group is fused or
        # capturable, whose kernels read it on the device
        on_device_step = {id(p): g.get("fused", False) or g.get("capturable", False)
                          for g, s in zip(groups, saved_groups) for p in g["params"]}
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = {key: self._cast_state(param, key, value,
                                                      on_device_step[id(param)])
                                for key, value in v.items()}
            else:
                state[k] = v
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved = dict(saved)
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups

    @staticmethod
    def _cast_state(param, key, value, on_device_step):
        # torch's _process_value_according_to_param_policy; containers are walked, and
        # the items of a list or tuple are cast without their key
        if isinstance(value, Tensor):
            if key == "step":
                return value.to(D.float32, device=param.device) if on_device_step else value
            if param.is_floating_point():
                return value.to(param.dtype, device=param.device)
            return value.to(device=param.device)
        if isinstance(value, dict):
            return {k: Optimizer._cast_state(param, k, v, on_device_step)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(Optimizer._cast_state(param, None, v, on_device_step)
                               for v in value)
        return value

    # ---- hooks and step ---------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        return add_hook(self._optimizer_step_post_hooks, hook)

    def _grads(self, group):
        """The (param, grad array) pairs of a group's parameters that have a gradient."""
        out = []
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            if g.is_sparse:   # sparse gradients: the optimizer's sparse path or torch's error
                if not self._sparse_grads:
                    raise RuntimeError(f"{self._sparse_name} does not support sparse "
                                       f"gradients{self._sparse_hint}")
                out.append((p, g))
                continue
            out.append((p, g._data))
        return out

    def _scratch(self):
        scratch = self.__dict__.get("_scratch_arrays")
        if scratch is None:
            scratch = self._scratch_arrays = _Scratch()
        return scratch

    # Sparse gradients: optimizers with a sparse path (SGD, Adagrad) set _sparse_grads and
    # get the SparseCOOTensor itself from _grads; the others raise torch's error.
    _sparse_grads = False
    _sparse_hint = ""

    @property
    def _sparse_name(self):
        return type(self).__name__

    def step(self, closure=None):
        """Run the closure (if any) with grad enabled, then update every parameter."""
        for hook in list(self._optimizer_step_pre_hooks.values()):
            result = hook(self, (), {})
            if result is not None:
                raise RuntimeError("optimizer step pre-hooks returning new args are not "
                                   "supported by Ember")
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        for hook in list(self._optimizer_step_post_hooks.values()):
            hook(self, (), {})
        return loss

    def _step_group(self, group, pairs=None):
        """One group's update: each parameter's state is created on its first step ('step'
        first, torch's key order, then ``_init_state``); 'step' is counted, then
        ``_update`` runs on the arrays, once for the group or, with ``foreach=False``,
        once per parameter.  ``pairs`` (default: ``_grads(group)``) lets a subclass keep
        some parameters, e.g. those with sparse gradients, for a path of its own."""
        if pairs is None:
            pairs = self._grads(group)
        if not pairs:
            return
        self._on_devices(pairs, lambda some: self._step_pairs(group, some))

    @staticmethod
    def _on_devices(pairs, run):
        """``run(pairs)`` with the parameters' device current, where CuPy allocates state and
        temporaries: once when they share a device (the usual case), else per parameter."""
        dev = pairs[0][0].device
        if all(p.device == dev for p, _ in pairs):
            with device_scope(dev):
                run(pairs)
        else:
            for pair in pairs:
                with device_scope(pair[0].device):
                    run([pair])

    def _step_pairs(self, group, pairs):
        states = []
        for p, _ in pairs:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                self._init_state(state, p, group)
            states.append(state)
        steps = [_step_value(state) for state in states]
        scratch = self._scratch()
        if group.get("foreach") is False:
            for k, (p, g) in enumerate(pairs):
                self._update([p._data], [g], states[k:k + 1], steps[k:k + 1], group, scratch)
        else:
            self._update([p._data for p, _ in pairs], [g for _, g in pairs], states, steps,
                         group, scratch)
        for p, _ in pairs:
            _bump(p)

    # The state entries that start as zeros shaped like the parameter, in torch's order.
    _zero_states = ()

    def _init_state(self, state, p, group):
        """Add an optimizer's own entries to a parameter's new state (after 'step')."""
        for key in self._zero_states:
            state[key] = _zeros_state(p)

    def _update(self, params, grads, states, steps, group, scratch):
        """Apply the algorithm to lists of arrays (the parameters', their gradients'), with
        the parameters' state dicts and step counts (this step included)."""
        raise NotImplementedError(f"{type(self).__name__} does not define _update")


def _arrays(states, key):
    """The arrays of one state entry across parameters (None where a parameter has none)."""
    return [None if s.get(key) is None else s[key]._data for s in states]


def _check_lr(lr):
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_eps(eps):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")


def _check_betas(betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_weight_decay(wd):
    if not 0.0 <= wd:
        raise ValueError(f"Invalid weight_decay value: {wd}")


def _adam_defaults(lr, betas, eps, weight_decay, **options):
    """The defaults of Adam and its variants, after torch's checks of the shared arguments
    (in torch's order: lr, eps, betas, weight_decay)."""
    _check_lr(lr)
    _check_eps(eps)
    _check_betas(betas)
    _check_weight_decay(weight_decay)
    return dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, **options)
