"""Whole-sequence forward and backward of one recurrent layer direction, on raw arrays.

Driving the time loop through Ember ops costs a dozen graph nodes per step, and the
per-op overhead then outweighs the arithmetic; these loops run the same math
directly on the arrays of the device's array module, into preallocated per-step
buffers.  The backward keeps each step's gate gradients so that the weight gradients
are one matrix product over all steps instead of one per step.

Layout: x (L, N, I) time-major; the weights' gate blocks are torch's (i, f, g, o for
LSTM, r, z, n for GRU).  The LSTM forward keeps its activations gate-major, (4, L, N,
H) in the order i, f, o, g (``_lstm_forward_weights``): NumPy runs a pass over a
contiguous block several times faster than over a strided slice of the same size, and
the three sigmoid gates are then one block.  ``mask`` is None or (L, N, 1) booleans
(packed sequences: where it is False the state is carried over and the output is
zero).  Every per-step buffer is indexed by time, whichever the direction, so the
weight gradients need no reordering.
"""
import threading

from ..._device import array_module

_scratch = threading.local()
# Scratch arrays above this size are not kept between calls.
_SCRATCH_LIMIT = 1 << 25


def _sigmoid_(a, xp):
    """a <- sigmoid(a), in place: 1 / (1 + exp(-a)); exp overflowing gives exactly 0."""
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _emit(xp, out, t, mask, h_new, h):
    """Store step t's output; past a sequence's end (packed input) the state is kept and the
    output is zero.  Returns the state to carry on with."""
    if mask is None:
        out[t] = h_new
        return h_new
    h_new = xp.where(mask[t], h_new, h)
    out[t] = xp.where(mask[t], h_new, 0)
    return h_new


def _buffer(xp, name, shape, dtype):
    """A scratch array that the next backward of the same shape on this thread reuses: a
    fresh array of a few MiB costs a page fault per 4 KiB page on first touch (the
    allocator hands large blocks back to the system), more than the passes over it."""
    cache = getattr(_scratch, "arrays", None)
    if cache is None:
        cache = _scratch.arrays = {}
    a = cache.get(name)
    if a is None or a.shape != shape or a.dtype != dtype or array_module(a) is not xp:
        a = xp.empty(shape, dtype)
        if a.nbytes <= _SCRATCH_LIMIT:
            cache[name] = a
    return a


def _steps(length, reverse):
    return range(length - 1, -1, -1) if reverse else range(length)


def _project(xp, x, w, b):
    """The input projection of every step at once: x (L, N, I) @ w^T + b -> (L, N, G)."""
    length, n = x.shape[0], x.shape[1]
    xg = xp.matmul(x.reshape(length * n, x.shape[2]), w.T)
    if b is not None:
        xg += b
    return xg.reshape(length, n, w.shape[0])


def _transposed(w, xp):
    # A product with a transposed view costs BLAS nearly twice a contiguous one at these
    # sizes (16 x 128 x 512: 38 vs 22 us), and the recurrent product runs once per step.
    return xp.ascontiguousarray(w.T)


def forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mask, reverse):
    """Returns (out (L, N, P), h_n, c_n or None, workspace for ``backward``)."""
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    if mode == "LSTM":
        return _forward_lstm(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mask, reverse)
    length, n = x.shape[0], x.shape[1]
    bias = None if b_ih is None else (b_ih if mode == "GRU" else b_ih + b_hh)
    xg = _project(xp, x, w_ih, bias)
    out = xp.empty((length, n, h0.shape[-1]), dtype=x.dtype)
    ws = {"x": x, "h_prev": xp.empty_like(out), "out": out}
    steps = _steps(length, reverse)
    if mode == "GRU":
        return out, _forward_gru(xp, ws, xg, h0, w_hh, b_hh, mask, steps), None, ws
    h = h0
    h_prev, w_t, relu = ws["h_prev"], _transposed(w_hh, xp), mode == "RNN_RELU"
    for t in steps:
        h_prev[t] = h
        h_new = xg[t]
        h_new += xp.matmul(h, w_t)
        if relu:
            xp.maximum(h_new, 0, out=h_new)
        else:
            xp.tanh(h_new, out=h_new)
        h = _emit(xp, out, t, mask, h_new, h)
    return out, h, None, ws


def _lstm_forward_weights(w, xp):
    """(4, K, H) contiguous from a (4H, K) weight (or (4, 1, 1, H) from a (4H,) bias):
    gate-major, the gates in the order i, f, o, g, and the three sigmoid gates negated.
    The products then give each gate's pre-activations as one contiguous block (the
    sigmoids are one run over three blocks), and -z for the sigmoid gates, so
    sigmoid(z) = 1 / (1 + exp(-z)) needs no negation pass per step (negating a weight
    negates every product and sum exactly)."""
    hidden = w.shape[0] // 4
    w4 = w.reshape(4, hidden, -1).transpose(0, 2, 1)
    out = xp.empty(w4.shape, dtype=w.dtype)
    xp.negative(w4[:2], out=out[:2])
    xp.negative(w4[3], out=out[2])
    out[3] = w4[2]
    return out.reshape(4, 1, 1, hidden) if w.ndim == 1 else out


def _shifted(reverse):
    """Index pairs (this step, the step before) over time: (steps after the first, the
    steps before them), and the first step's index."""
    if reverse:
        return slice(None, -1), slice(1, None), -1
    return slice(1, None), slice(None, -1), 0


def _forward_lstm(xp, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, mask, reverse):
    """Per step: one (batched) product, the gate activations in four passes over
    contiguous blocks, the state update in five; every result lands in a preallocated
    buffer.  The activations are kept gate-major, (4, L, N, H)."""
    length, n = x.shape[0], x.shape[1]
    hidden = w_hh.shape[0] // 4
    # The pre-activations, overwritten by the activations.
    act = xp.matmul(x.reshape(length * n, x.shape[2]), _lstm_forward_weights(w_ih, xp))
    act = act.reshape(4, length, n, hidden)
    if b_ih is not None:
        act += _lstm_forward_weights(b_ih + b_hh, xp)
    w_hh4 = _lstm_forward_weights(w_hh, xp)
    c_all = xp.empty((length, n, hidden), dtype=x.dtype)
    tanh_c = xp.empty_like(c_all)
    h_all = xp.empty((length, n, h.shape[-1]), dtype=x.dtype)
    out = h_all if mask is None else xp.empty_like(h_all)
    ws = {"x": x, "act": act, "c_all": c_all, "tanh_c": tanh_c, "h_all": h_all,
          "h0": h, "c0": c, "out": out, "reverse": reverse}
    if w_hr is not None:
        ws["h_raw"] = h_raw = xp.empty_like(c_all)
        w_hr_t = _transposed(w_hr, xp)
    hh = xp.empty((4, n, hidden), dtype=x.dtype)
    ig = xp.empty((n, hidden), dtype=x.dtype)
    for t in _steps(length, reverse):
        xp.matmul(h, w_hh4, out=hh)
        a = act[:, t]
        a += hh
        s = a[:3]
        xp.exp(s, out=s)
        s += 1
        xp.reciprocal(s, out=s)
        i, f, o, g = a
        xp.tanh(g, out=g)
        c_new, tc, h_new = c_all[t], tanh_c[t], h_all[t]
        xp.multiply(f, c, out=c_new)
        xp.multiply(i, g, out=ig)
        c_new += ig
        xp.tanh(c_new, out=tc)
        if w_hr is None:
            xp.multiply(o, tc, out=h_new)
        else:
            xp.multiply(o, tc, out=h_raw[t])
            xp.matmul(h_raw[t], w_hr_t, out=h_new)
        if mask is not None:
            m = mask[t]
            out[t] = xp.where(m, h_new, 0)
            h_new[...] = xp.where(m, h_new, h)
            c_new[...] = xp.where(m, c_new, c)
        h, c = h_new, c_new
    # h_n and c_n own their memory, as torch's do.
    return out, h.copy(), c.copy(), ws


def _forward_gru(xp, ws, xg, h, w_hh, b_hh, mask, steps):
    x, h_prev, out = ws["x"], ws["h_prev"], ws["out"]
    length, n, gates = xg.shape
    hidden = gates // 3
    w_t = _transposed(w_hh, xp)
    ws["hh"] = hh_all = xp.empty_like(xg)
    ws["rz"] = rz_all = xp.empty((length, n, 2 * hidden), dtype=x.dtype)
    ws["new"] = new_all = xp.empty((length, n, hidden), dtype=x.dtype)
    two = 2 * hidden
    for t in steps:
        h_prev[t] = h
        hh = hh_all[t]
        xp.matmul(h, w_t, out=hh)
        if b_hh is not None:
            hh += b_hh
        rz = rz_all[t]
        xp.add(xg[t, :, :two], hh[:, :two], out=rz)
        _sigmoid_(rz, xp)
        new = new_all[t]
        xp.multiply(rz[:, :hidden], hh[:, two:], out=new)
        new += xg[t, :, two:]
        xp.tanh(new, out=new)
        h_new = h - new
        h_new *= rz[:, hidden:]
        h_new += new
        h = _emit(xp, out, t, mask, h_new, h)
    return h


def backward(mode, ws, d_out, d_hn, d_cn, w_ih, w_hh, b_ih, b_hh, w_hr, mask, reverse,
             need_x=True):
    """Gradients (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr) of one layer direction
    (x's only if ``need_x``)."""
    xp = array_module(d_out)
    if mode == "LSTM":
        return _backward_lstm(xp, ws, d_out, d_hn, d_cn, w_ih, w_hh, b_ih, w_hr, mask,
                              need_x)
    x, h_prev = ws["x"], ws["h_prev"]
    length, n = x.shape[0], x.shape[1]
    gates = w_hh.shape[0]
    # Each step's gate gradients: d_xg towards the input projection, d_hh_gates towards
    # the recurrent one (the same array but for GRU, whose candidate gate differs).
    d_gates = xp.empty((length, n, gates), dtype=x.dtype)
    steps = _steps(length, not reverse)
    if mode == "GRU":
        d_xg = xp.empty_like(d_gates)
        dh = _backward_gru(xp, ws, d_gates, d_xg, d_out, d_hn, w_hh, mask, steps)
    else:
        dh = _backward_rnn(xp, ws, d_gates, d_out, d_hn, w_hh, mask, steps, mode == "RNN_RELU")
        d_xg = d_gates
    flat_x = d_xg.reshape(length * n, gates)
    d_x = xp.matmul(flat_x, w_ih).reshape(x.shape) if need_x else None
    d_w_ih = _summed_product(d_xg, x)
    d_w_hh = _summed_product(d_gates, h_prev)
    d_b_ih = flat_x.sum(0) if b_ih is not None else None
    d_b_hh = None
    if b_ih is not None:
        # Two parameters never share one gradient array (.grad must not alias).
        d_b_hh = d_gates.reshape(length * n, gates).sum(0) if mode == "GRU" else d_b_ih.copy()
    return d_x, dh, None, d_w_ih, d_w_hh, d_b_ih, d_b_hh, None


def _padded_split(xp, into, past, mask, t):
    """At a step that padding skips (``mask[t]`` False) the incoming gradient ``past``
    bypasses the cell: returns (gradient into the cell, gradient carried past it; None
    without a mask)."""
    if mask is None:
        return into, None
    m = mask[t]
    return xp.where(m, into, 0), xp.where(m, 0, past)


def _backward_lstm(xp, ws, d_out, dh, dc, w_ih, w_hh, b_ih, w_hr, mask, need_x):
    """The step loop is left with the recurrence alone: every factor that depends only on
    the forward's activations (each gate's derivative times what it multiplies) is
    computed for all steps at once first, over contiguous gate-major blocks, so a step
    is six passes and one product."""
    act, tanh_c, reverse = ws["act"], ws["tanh_c"], ws["reverse"]
    _, length, n, hidden = act.shape
    i, f, o, g = act
    # q[k]: gate k's gradient per unit of the gradient reaching it, in torch's order
    # (i, f, g, o): dc for the first three, so that one product per step serves them,
    # and dh for o.
    q = _buffer(xp, "q", act.shape, act.dtype)
    xp.subtract(1, act[:2], out=q[:2])
    q[:2] *= act[:2]
    xp.subtract(1, o, out=q[3])
    q[3] *= o
    q[0] *= g
    later, before, first = _shifted(reverse)
    q[1, later] *= ws["c_all"][before]
    q[1, first] *= ws["c0"]
    q[3] *= tanh_c
    xp.multiply(g, g, out=q[2])
    xp.subtract(1, q[2], out=q[2])
    q[2] *= i
    # dh -> dc through h = o * tanh(c).
    p = xp.multiply(tanh_c, tanh_c, out=_buffer(xp, "p", tanh_c.shape, act.dtype))
    xp.subtract(1, p, out=p)
    p *= o
    # The gate gradients as rows (L, N, 4H) in torch's order, for the products.
    d = _buffer(xp, "d", (length, n, 4 * hidden), act.dtype)
    if w_hr is not None:
        d_proj = xp.empty_like(ws["out"])
    dh_new = xp.empty_like(dh)
    dct = xp.empty((n, hidden), dtype=act.dtype)
    for t in _steps(length, not reverse):
        xp.add(dh, d_out[t], out=dh_new)
        into, carry_h = _padded_split(xp, dh_new, dh, mask, t)
        into_c, carry_c = _padded_split(xp, dc, dc, mask, t)
        if w_hr is not None:
            d_proj[t] = into
            into = xp.matmul(into, w_hr)
        xp.multiply(into, p[t], out=dct)
        dct += into_c
        dt = d[t].reshape(n, 4, hidden).transpose(1, 0, 2)
        xp.multiply(dct, q[:3, t], out=dt[:3])
        xp.multiply(into, q[3, t], out=dt[3])
        dh = xp.matmul(d[t], w_hh)
        dc = dct * f[t]
        if carry_h is not None:
            dh += carry_h
            dc += carry_c
    flat = d.reshape(-1, d.shape[-1])
    d_x = xp.matmul(flat, w_ih).reshape(ws["x"].shape) if need_x else None
    d_w_ih = _summed_product(d, ws["x"])
    d_w_hh = _summed_product(d[later], ws["h_all"][before])
    d_w_hh += xp.matmul(d[first].T, ws["h0"])
    d_b_ih = flat.sum(0) if b_ih is not None else None
    # Two parameters never share one gradient array (.grad must not alias).
    d_b_hh = None if d_b_ih is None else d_b_ih.copy()
    d_w_hr = _summed_product(d_proj, ws["h_raw"]) if w_hr is not None else None
    return d_x, dh, dc, d_w_ih, d_w_hh, d_b_ih, d_b_hh, d_w_hr


def _backward_gru(xp, ws, d_gates, d_xg, d_out, dh, w_hh, mask, steps):
    hh_all, rz_all, new_all, h_prev = ws["hh"], ws["rz"], ws["new"], ws["h_prev"]
    hidden = w_hh.shape[0] // 3
    two = 2 * hidden
    for t in steps:
        dh_new, carry_h = _padded_split(xp, dh + d_out[t], dh, mask, t)
        r, z = rz_all[t, :, :hidden], rz_all[t, :, hidden:]
        new = new_all[t]
        d_new = dh_new * (1 - z)
        d_new *= 1 - new * new
        dx, dhh = d_xg[t], d_gates[t]
        xp.multiply(dh_new * (h_prev[t] - new), z * (1 - z), out=dx[:, hidden:two])
        xp.multiply(d_new * hh_all[t, :, two:], r * (1 - r), out=dx[:, :hidden])
        dx[:, two:] = d_new
        dhh[:, :two] = dx[:, :two]
        xp.multiply(d_new, r, out=dhh[:, two:])
        dh = xp.matmul(dhh, w_hh)
        dh += dh_new * z
        if carry_h is not None:
            dh += carry_h
    return dh


def _backward_rnn(xp, ws, d_gates, d_out, dh, w_hh, mask, steps, relu):
    out = ws["out"]
    for t in steps:
        dh_new, carry_h = _padded_split(xp, dh + d_out[t], dh, mask, t)
        d = d_gates[t]
        if relu:
            xp.multiply(dh_new, out[t] > 0, out=d)
        else:
            xp.multiply(dh_new, 1 - out[t] * out[t], out=d)
        dh = xp.matmul(d, w_hh)
        if carry_h is not None:
            dh += carry_h
    return dh


def _summed_product(d, a):
    """sum over steps and batch of d[t]^T a[t]: one (G, L*N) x (L*N, K) product."""
    xp = array_module(d)
    return xp.matmul(d.reshape(-1, d.shape[-1]).T, a.reshape(-1, a.shape[-1]))
