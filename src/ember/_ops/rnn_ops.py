"""Fused recurrent cells: the pointwise part of one LSTM or GRU step.

Written with ordinary ops, one LSTM step is about fifteen graph nodes, and the
per-op overhead dwarfs the arithmetic.  Here an LSTM step is two ops (the gate
activations, which keep their result for the backward, and the state update) and a
GRU step one (named after torch's fused kernel); the matrix products stay outside.
They serve the cells (LSTMCell, torch.lstm_cell ...) and the op-by-op recurrence of
``nn/_functional/rnn.py`` (half precision, and the create_graph backward of layers).

Each backward formula is written once, generic over a small math namespace:
``_ARRAYS`` runs it on raw arrays, ``_TENSORS`` in Ember ops.  When no graph is being
recorded (no ``create_graph``) it runs on the arrays: with grad mode off, Ember ops
would record nothing anyway, so the result is the same, minus the dispatch cost.
Under ``create_graph`` the very same formula runs in Ember ops, so the gradient is
itself differentiable and higher derivatives work.  What the registry cannot save
(the update's tanh(c), the GRU gates) is recomputed from the saved inputs: a few
pointwise passes.

The public functions ``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell`` and
``rnn_relu_cell`` have torch's signatures (``torch.lstm_cell(input, hx, w_ih, w_hh,
b_ih=None, b_hh=None)`` ...).
"""
import numpy as np

from .._tensor import _make
from ..autograd import grad_mode
from ._declare import declare
from . import join, linalg, unary
from .registry import apply, defop

_state = grad_mode._state


def _half_in_float32(fwd):
    """float16/bfloat16 cells run in float32 and round each output once, as torch's
    kernels do (step-by-step half arithmetic drifts)."""
    def f(*arrays):
        d = arrays[0].dtype
        if d.itemsize != 2 or d.kind not in "fV":
            return fwd(*arrays)
        outs = fwd(*[None if a is None else a.astype(np.float32) for a in arrays])
        return tuple(o.astype(d) for o in outs) if isinstance(outs, tuple) else outs.astype(d)
    return f


def _backward(formula, ctx, saved, *grads):
    """``formula(math, *saved, *grads)`` on raw arrays, or in Ember ops under create_graph."""
    if _state.enabled:
        return formula(_TENSORS, *saved, *grads)
    arrays = [None if t is None else t._data for t in saved]
    outs = _half_in_float32(lambda *a: formula(_ARRAYS, *a))(
        *arrays, *[g._data for g in grads])
    # One gradient array handed to two inputs becomes one tensor, so that the engine
    # sees the sharing (and copies before it lands in two leaves' .grad).
    made = {}
    for o in outs:
        if o is not None and id(o) not in made:
            made[id(o)] = _make(o)
    return tuple(None if o is None else made[id(o)] for o in outs)


def _sigmoid_into(a, out=None):
    """sigmoid(a) as 1 / (1 + exp(-a)) in four passes over ``out`` (default: in place);
    accurate in both tails (exp overflowing to inf gives exactly 0)."""
    out = np.negative(a, out=a if out is None else out)
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _sigmoid_array(a):
    return _sigmoid_into(a, np.empty_like(a))


class _ArrayMath:
    sigmoid = staticmethod(_sigmoid_array)
    tanh = staticmethod(np.tanh)

    @staticmethod
    def cat(parts):
        return np.concatenate(parts, -1)


class _TensorMath:
    sigmoid = staticmethod(unary.sigmoid)
    tanh = staticmethod(unary.tanh)

    @staticmethod
    def cat(parts):
        return join.cat(parts, -1)


_ARRAYS = _ArrayMath()
_TENSORS = _TensorMath()


# ---- LSTM ------------------------------------------------------------------------------
# Two ops: the gate activations, which keep their result for the backward (so the
# sigmoids are never recomputed), and the state update.
def _lstm_activations(xg, hh):
    gates = xg + hh
    n = gates.shape[-1] // 4
    _sigmoid_into(gates[..., :2 * n])
    np.tanh(gates[..., 2 * n:3 * n], out=gates[..., 2 * n:3 * n])
    _sigmoid_into(gates[..., 3 * n:])
    return gates


def _lstm_activation_grads(m, act, grad):
    n = act.shape[-1] // 4
    g = act[..., 2 * n:3 * n]
    sig = act * (1 - act)
    d = grad * m.cat([sig[..., :2 * n], 1 - g * g, sig[..., 3 * n:]])
    return d, d


lstm_gates_op = defop(
    "_lstm_gate_activations", _half_in_float32(_lstm_activations),
    lambda ctx, g: _backward(_lstm_activation_grads, ctx, (ctx.result,), g), save_result=True)


def _split_gates(act):
    n = act.shape[-1] // 4
    return act[..., :n], act[..., n:2 * n], act[..., 2 * n:3 * n], act[..., 3 * n:]


def _lstm_update(m, act, c):
    i, f, g, o = _split_gates(act)
    c_new = f * c + i * g
    return o * m.tanh(c_new), c_new


def _lstm_update_grads(m, act, c, gh, gc):
    i, f, g, o = _split_gates(act)
    tc = m.tanh(f * c + i * g)
    gc = gc + gh * o * (1 - tc * tc)
    return m.cat([gc * g, gc * c, gc * i, gh * tc]), gc * f


lstm_update_op = defop(
    "_lstm_cell_update", _half_in_float32(lambda act, c: _lstm_update(_ARRAYS, act, c)),
    lambda ctx, gh, gc: _backward(_lstm_update_grads, ctx, ctx.saved, gh, gc), save=(0, 1),
    nout=2)


def fused_lstm_cell(input_gates, hidden_gates, cx):
    """(h, c) of one LSTM step from its gate pre-activations: input_gates + hidden_gates
    (N, 4H, blocks i, f, g, o) and the cell state cx (N, H)."""
    act = apply(lstm_gates_op, (input_gates, hidden_gates))
    return apply(lstm_update_op, (act, cx))


# ---- GRU -------------------------------------------------------------------------------
def _gru_gates(m, xg, hh, h, b_hh):
    if b_hh is not None:
        hh = hh + b_hh
    n = h.shape[-1]
    rz = m.sigmoid(xg[..., :2 * n] + hh[..., :2 * n])
    r, z = rz[..., :n], rz[..., n:]
    hn = hh[..., 2 * n:]
    return r, z, m.tanh(xg[..., 2 * n:] + r * hn), hn


def _gru_forward(m, xg, hh, h, b_hh):
    r, z, new, hn = _gru_gates(m, xg, hh, h, b_hh)
    return (1 - z) * new + z * h


def _gru_grads(m, xg, hh, h, b_hh, gh):
    r, z, new, hn = _gru_gates(m, xg, hh, h, b_hh)
    d_new = gh * (1 - z) * (1 - new * new)
    d_z = gh * (h - new) * (z * (1 - z))
    d_r = d_new * hn * (r * (1 - r))
    d_hh = m.cat([d_r, d_z, d_new * r])
    # b_hh's gradient is d_hh; the registry sums it over the batch.
    return m.cat([d_r, d_z, d_new]), d_hh, gh * z, (d_hh if b_hh is not None else None)


fused_gru_cell_op = defop(
    "_thnn_fused_gru_cell",
    _half_in_float32(lambda xg, hh, h, b_hh: _gru_forward(_ARRAYS, xg, hh, h, b_hh)),
    lambda ctx, gh: _backward(_gru_grads, ctx, ctx.saved, gh), save=(0, 1, 2, 3))


def fused_gru_cell(input_gates, hidden_gates, hx, hidden_bias=None):
    """h of one GRU step: input_gates = x W_ih^T + b_ih and hidden_gates = h W_hh^T
    (both (N, 3H), blocks r, z, n), hx (N, H); hidden_bias (b_hh) is added to
    hidden_gates inside, since the n block needs it before the reset gate."""
    return apply(fused_gru_cell_op, (input_gates, hidden_gates, hx, hidden_bias))


# ---- torch.*_cell ----------------------------------------------------------------------
def _linear(x, w, b):
    out = linalg.matmul(x, w.t())
    return out + b if b is not None else out


@declare(method=False)
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    h, c = hx
    return fused_lstm_cell(_linear(input, w_ih, b_ih), _linear(h, w_hh, b_hh), c)


@declare(method=False)
def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return fused_gru_cell(_linear(input, w_ih, b_ih), linalg.matmul(hx, w_hh.t()), hx, b_hh)


@declare(method=False)
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return unary.tanh(_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh))


@declare(method=False)
def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return unary.relu(_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh))
