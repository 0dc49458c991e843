"""Whole-sequence forward and backward of one recurrent layer direction, on raw arrays.

Driving the time loop through Ember ops costs a dozen graph nodes per step, and the
per-op overhead then outweighs the arithmetic; these loops run the same math
directly on the arrays of the device's array module, into preallocated per-step
buffers.  The backward keeps each step's gate gradients so that the weight gradients
are one matrix product over all steps instead of one per step.

Layout: x (L, N, I) time-major; the gate blocks are torch's (i, f, g, o for LSTM,
r, z, n for GRU).  ``mask`` is None or (L, N, 1) booleans (packed sequences: where
it is False the state is carried over and the output is zero).  Every per-step
buffer is indexed by time, whichever the direction, so the weight gradients need
no reordering.
"""
from ..._device import array_module


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


def _steps(length, reverse):
    return range(length - 1, -1, -1) if reverse else range(length)


def forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mask, reverse):
    """Returns (out (L, N, P), h_n, c_n or None, workspace for ``backward``)."""
    xp = array_module(x)
    length, n = x.shape[0], x.shape[1]
    gates = w_ih.shape[0]
    x = xp.ascontiguousarray(x)
    xg = xp.matmul(x.reshape(length * n, x.shape[2]), w_ih.T)
    xg = xg.reshape(length, n, gates)
    if b_ih is not None:
        xg += b_ih if mode == "GRU" else b_ih + b_hh
    out = xp.empty((length, n, h0.shape[-1]), dtype=x.dtype)
    ws = {"x": x, "h_prev": xp.empty_like(out), "out": out}
    steps = _steps(length, reverse)
    if mode == "LSTM":
        h, c = _forward_lstm(xp, ws, xg, h0, c0, w_hh, w_hr, mask, steps)
        return out, h, c, ws
    if mode == "GRU":
        return out, _forward_gru(xp, ws, xg, h0, w_hh, b_hh, mask, steps), None, ws
    h = h0
    h_prev, w_t, relu = ws["h_prev"], w_hh.T, mode == "RNN_RELU"
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


def _forward_lstm(xp, ws, xg, h, c, w_hh, w_hr, mask, steps):
    x, h_prev, out = ws["x"], ws["h_prev"], ws["out"]
    length, n, gates = xg.shape
    hidden = gates // 4
    w_t = w_hh.T
    ws["act"] = act = xg  # the pre-activations are overwritten by the activations
    ws["c_prev"] = c_prev = xp.empty((length, n, hidden), dtype=x.dtype)
    ws["tanh_c"] = tanh_c = xp.empty_like(c_prev)
    if w_hr is not None:
        ws["h_raw"] = h_raw = xp.empty_like(c_prev)
    hh = xp.empty((n, gates), dtype=x.dtype)
    two, three = 2 * hidden, 3 * hidden
    for t in steps:
        h_prev[t] = h
        c_prev[t] = c
        a = act[t]
        xp.matmul(h, w_t, out=hh)
        a += hh
        _sigmoid_(a[:, :two], xp)
        xp.tanh(a[:, two:three], out=a[:, two:three])
        _sigmoid_(a[:, three:], xp)
        c_new = a[:, hidden:two] * c
        c_new += a[:, :hidden] * a[:, two:three]
        tc = tanh_c[t]
        xp.tanh(c_new, out=tc)
        if w_hr is not None:
            xp.multiply(a[:, three:], tc, out=h_raw[t])
            h_new = xp.matmul(h_raw[t], w_hr.T)
        else:
            h_new = a[:, three:] * tc
        if mask is not None:
            c_new = xp.where(mask[t], c_new, c)
        h, c = _emit(xp, out, t, mask, h_new, h), c_new
    return h, c


def _forward_gru(xp, ws, xg, h, w_hh, b_hh, mask, steps):
    x, h_prev, out = ws["x"], ws["h_prev"], ws["out"]
    length, n, gates = xg.shape
    hidden = gates // 3
    w_t = w_hh.T
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
    x, h_prev = ws["x"], ws["h_prev"]
    length, n = x.shape[0], x.shape[1]
    gates = w_hh.shape[0]
    # Each step's gate gradients: d_xg towards the input projection, d_hh_gates towards
    # the recurrent one (the same array but for GRU, whose candidate gate differs).
    d_gates = xp.empty((length, n, gates), dtype=x.dtype)
    steps = _steps(length, not reverse)
    dc = d_w_hr = None
    if mode == "LSTM":
        dh, dc, d_w_hr = _backward_lstm(xp, ws, d_gates, d_out, d_hn, d_cn, w_hh, w_hr, mask,
                                        steps)
        d_xg = d_gates
    elif mode == "GRU":
        d_xg = xp.empty_like(d_gates)
        dh = _backward_gru(xp, ws, d_gates, d_xg, d_out, d_hn, w_hh, mask, steps)
    else:
        dh = _backward_rnn(xp, ws, d_gates, d_out, d_hn, w_hh, mask, steps, mode == "RNN_RELU")
        d_xg = d_gates
    flat_x = d_xg.reshape(length * n, gates)
    d_x = xp.matmul(flat_x, w_ih).reshape(x.shape) if need_x else None
    d_w_ih = _summed_product(d_xg, x)
    d_w_hh = _summed_product(d_gates, h_prev)
    d_b_ih = d_b_hh = None
    if b_ih is not None:
        d_b_ih = flat_x.sum(0)
        # Two parameters never share one gradient array (.grad must not alias).
        d_b_hh = d_gates.reshape(length * n, gates).sum(0) if mode == "GRU" else d_b_ih.copy()
    return d_x, dh, dc, d_w_ih, d_w_hh, d_b_ih, d_b_hh, d_w_hr


def _padded_split(xp, into, past, mask, t):
    """At a step that padding skips (``mask[t]`` False) the incoming gradient ``past``
    bypasses the cell: returns (gradient into the cell, gradient carried past it; None
    without a mask)."""
    if mask is None:
        return into, None
    m = mask[t]
    return xp.where(m, into, 0), xp.where(m, 0, past)


def _backward_lstm(xp, ws, d_gates, d_out, dh, dc, w_hh, w_hr, mask, steps):
    act, c_prev, tanh_c = ws["act"], ws["c_prev"], ws["tanh_c"]
    hidden = w_hh.shape[0] // 4
    two, three = 2 * hidden, 3 * hidden
    if w_hr is not None:
        d_proj = xp.empty_like(ws["out"])
    for t in steps:
        dh_new, carry_h = _padded_split(xp, dh + d_out[t], dh, mask, t)
        dc_new, carry_c = _padded_split(xp, dc, dc, mask, t)
        if w_hr is not None:
            d_proj[t] = dh_new
            dh_new = xp.matmul(dh_new, w_hr)
        a = act[t]
        i, f, g, o = a[:, :hidden], a[:, hidden:two], a[:, two:three], a[:, three:]
        tc = tanh_c[t]
        dct = dh_new * o
        dct *= 1 - tc * tc
        dct += dc_new
        d = d_gates[t]
        xp.multiply(dct * g, i * (1 - i), out=d[:, :hidden])
        xp.multiply(dct * c_prev[t], f * (1 - f), out=d[:, hidden:two])
        xp.multiply(dct * i, 1 - g * g, out=d[:, two:three])
        xp.multiply(dh_new * tc, o * (1 - o), out=d[:, three:])
        dh = xp.matmul(d, w_hh)
        dc = dct * f
        if carry_h is not None:
            dh += carry_h
            dc += carry_c
    d_w_hr = _summed_product(d_proj, ws["h_raw"]) if w_hr is not None else None
    return dh, dc, d_w_hr


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
