"""The time loop of RNN/LSTM/GRU layers.

One layer direction over a whole sequence is one autograd node (``_LayerDirection``)
whose forward and backward loop over time on raw arrays (``rnn_kernels``): driven
op by op, a step costs a dozen graph nodes and their overhead outweighs the math.
Under ``create_graph`` the backward instead differentiates the same recurrence
written in Ember ops (``run_direction_ops``: one input-projection matmul, then one
matmul and one fused cell op per step), so higher-order gradients keep working.
Half-precision layers take that op-by-op path directly, as its cell ops compute in
float32 and round once per step, as torch does.
"""
import numpy as np

from ... import _dtype as D
from ..._device import array_module
from ..._ops import join, linalg
from ..._ops.pointwise import where
from ..._ops.unary import relu, tanh
from ..._ops.rnn_ops import fused_gru_cell, fused_lstm_cell
from ..._tensor import _make
from ...autograd import grad_mode
from ...autograd.function import BackwardCFunction, Function
from . import rnn_kernels


def alive_masks(lengths, steps, like):
    """(L, N, 1) booleans on ``like``'s device: which sequences of a packed batch are
    still running at each step."""
    lengths = np.asarray([int(n) for n in lengths])
    alive = np.arange(steps)[:, None, None] < lengths[None, :, None]
    return array_module(like._data).asarray(alive)


def run_direction(mode, x, state, params, reverse=False, alive=None):
    """One direction of one layer over the whole sequence.

    x: (L, N, H_in); state: h (RNN/GRU) or (h, c) (LSTM); params: w_ih, w_hh, b_ih,
    b_hh[, w_hr]; alive: None or ``alive_masks``.  Returns the outputs (L, N, H_out)
    and the final state.
    """
    if x.dtype not in (D.float32, D.float64):
        return run_direction_ops(mode, x, state, params, reverse, alive)
    w_ih, w_hh, b_ih, b_hh = params[:4]
    w_hr = params[4] if len(params) > 4 else None
    h0, c0 = state if mode == "LSTM" else (state, None)
    outs = _LayerDirection.apply(mode, alive, reverse, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
    return outs[0], (outs[1:] if mode == "LSTM" else outs[1])


def _data(t):
    return None if t is None else t._data


class _LayerDirection(Function):
    # Positions of the tensor arguments of apply(), after mode, alive, reverse.
    _FIRST_TENSOR = 3

    @staticmethod
    def forward(ctx, mode, alive, reverse, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
        out, h, c, ws = rnn_kernels.forward(mode, *map(_data, (x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                                               w_hr)), alive, reverse)
        ctx.mode, ctx.alive, ctx.reverse, ctx.workspace = mode, alive, reverse, ws
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
        # Unused outputs' gradients are made here, as zeros on the outputs' device (the
        # engine's materialised zeros would be host arrays).
        ctx.set_materialize_grads(False)
        ctx.outputs = [(array_module(a), a.shape, a.dtype) for a in (out, h, c) if a is not None]
        if c is None:
            return _make(out), _make(h)
        return _make(out), _make(h), _make(c)

    @staticmethod
    def backward(ctx, *grads):
        d_out, d_hn, d_cn = [_make(xp.zeros(shape, dtype)) if g is None else g
                             for g, (xp, shape, dtype) in zip(grads, ctx.outputs)] + \
            [None] * (3 - len(ctx.outputs))
        saved = ctx.saved_tensors
        if grad_mode.is_grad_enabled():
            return (None, None, None) + _vjp_by_ops(ctx, saved, (d_out, d_hn, d_cn))
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = map(_data, saved)
        grads = rnn_kernels.backward(ctx.mode, ctx.workspace, d_out._data, d_hn._data,
                                     _data(d_cn), w_ih, w_hh, b_ih, b_hh, w_hr, ctx.alive,
                                     ctx.reverse, need_x=ctx.needs_input_grad[3])
        return (None, None, None) + tuple(None if g is None else _make(g) for g in grads)


def _release(node):
    # The workspace goes with the saved tensors once the backward has used them
    # (unless retain_graph), though the outputs may keep the node alive longer.
    BackwardCFunction._release(node)
    node.workspace = None


_LayerDirection._backward_cls._release = _release


def _vjp_by_ops(ctx, saved, grads):
    """The backward under create_graph: replay the recurrence in Ember ops and
    differentiate it, so the gradient is itself differentiable."""
    from ...autograd import grad as autograd_grad
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = saved
    params = (w_ih, w_hh, b_ih, b_hh) + ((w_hr,) if w_hr is not None else ())
    state = (h0, c0) if ctx.mode == "LSTM" else h0
    out, state = run_direction_ops(ctx.mode, x, state, params, ctx.reverse, ctx.alive)
    outputs = [out] + (list(state) if ctx.mode == "LSTM" else [state])
    wrt = [i for i, t in enumerate(saved) if t is not None and t.requires_grad]
    found = autograd_grad(outputs, [saved[i] for i in wrt], list(grads[:len(outputs)]),
                          create_graph=True, allow_unused=True)
    result = [None] * len(saved)
    for i, g in zip(wrt, found):
        result[i] = g
    return tuple(result)


def _project(x, w, b):
    """x (L, N, H_in) @ w^T + b as one 2-D product: (L, N, G)."""
    steps, n = x.shape[0], x.shape[1]
    out = linalg.mm(x.reshape(steps * n, x.shape[2]), w.t())
    if b is not None:
        out = out + b
    return out.reshape(steps, n, out.shape[1])


def run_direction_ops(mode, x, state, params, reverse=False, alive=None):
    """``run_direction`` in Ember ops: one matmul and one fused cell per step."""
    w_ih, w_hh, b_ih, b_hh = params[:4]
    w_hr = params[4] if len(params) > 4 else None
    if mode == "GRU":
        # b_hh cannot be folded in: the n block's reset gate multiplies it.
        bias, cell_bias = b_ih, b_hh
    else:
        bias = b_ih + b_hh if b_ih is not None else None
        cell_bias = None
    steps = x.shape[0]
    xg = join.unbind(_project(x, w_ih, bias), 0)
    w_hh_t = w_hh.t()
    w_hr_t = w_hr.t() if w_hr is not None else None
    act = relu if mode == "RNN_RELU" else tanh
    lstm = mode == "LSTM"
    h, c = state if lstm else (state, None)
    outs = [None] * steps
    mm = linalg.mm
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        hh = mm(h, w_hh_t)
        if lstm:
            h_new, c_new = fused_lstm_cell(xg[t], hh, c)
            if w_hr_t is not None:
                h_new = mm(h_new, w_hr_t)
        elif mode == "GRU":
            h_new = fused_gru_cell(xg[t], hh, h, cell_bias)
        else:
            h_new = act(xg[t] + hh)
        if alive is None:
            outs[t] = h_new
        else:
            # Finished sequences keep their state and output zeros.
            m = _make(alive[t])
            outs[t] = where(m, h_new, 0.0)
            h_new = where(m, h_new, h)
            if lstm:
                c_new = where(m, c_new, c)
        h = h_new
        if lstm:
            c = c_new
    return join.stack(outs, 0), ((h, c) if lstm else h)
