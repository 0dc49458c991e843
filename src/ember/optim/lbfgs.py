"""L-BFGS (limited-memory BFGS), with an optional strong-Wolfe line search.

The algorithm follows Nocedal & Wright (Numerical Optimization, algorithms 7.4 and
3.5/3.6) in the shape of Mark Schmidt's minFunc, as torch's LBFGS does, so the
iterates match torch's.  All of it works on one flat array of the parameters' values.
"""
from .._device import array_module
from .._tensor import _make
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _bump


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to bounds."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search for a step ``t`` along ``d`` meeting the strong Wolfe conditions.

    Returns ``(f_new, g_new, t, evaluations)``.  A bracketing phase finds an interval
    holding an acceptable step; a zoom phase shrinks it by cubic interpolation.
    """
    search = _LineSearch(obj_func, x, d, f, gtd, c1, c2, max_ls)
    done, bracket, bracket_f, bracket_g, bracket_gtd = search.find_bracket(t, g.copy())
    low_pos = 0 if done else search.zoom(bracket, bracket_f, bracket_g, bracket_gtd,
                                         float(abs(d).max()), tolerance_change)
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], search.evals


class _LineSearch:
    """The two phases of ``_strong_wolfe``, sharing its trial counter."""

    def __init__(self, obj_func, x, d, f, gtd, c1, c2, max_ls):
        self.obj_func, self.x, self.d, self.f, self.gtd = obj_func, x, d, f, gtd
        self.c1, self.c2, self.max_ls = c1, c2, max_ls
        self.evals = 0
        self.iters = 0

    def trial(self, t):
        f_new, g_new = self.obj_func(self.x, t, self.d)
        self.evals += 1
        return f_new, g_new, g_new.dot(self.d)

    def find_bracket(self, t, g):
        """Returns ``(done, bracket, f, g, gtd)``: ``done`` when ``t`` itself is acceptable."""
        f, gtd, c1, c2 = self.f, self.gtd, self.c1, self.c2
        f_new, g_new, gtd_new = self.trial(t)
        t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
        while self.iters < self.max_ls:
            if f_new > (f + c1 * t * gtd) or (self.iters > 1 and f_new >= f_prev):
                return (False, [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()],
                        [gtd_prev, gtd_new])
            if abs(gtd_new) <= -c2 * gtd:
                return True, [t], [f_new], [g_new], None
            if gtd_new >= 0:
                return (False, [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()],
                        [gtd_prev, gtd_new])
            # Extrapolate: the next trial lies between 1.01x and 10x the current step.
            min_step = t + 0.01 * (t - t_prev)
            max_step = t * 10
            tmp = t
            t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                   bounds=(min_step, max_step))
            t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
            f_new, g_new, gtd_new = self.trial(t)
            self.iters += 1
        return False, [0, t], [f, f_new], [g, g_new], None

    def zoom(self, bracket, bracket_f, bracket_g, bracket_gtd, d_norm, tolerance_change):
        """Shrink the bracket (in place) around an acceptable step; returns the index of
        its best end."""
        f, gtd, c1, c2 = self.f, self.gtd, self.c1, self.c2
        insuf_progress = False
        low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
        while self.iters < self.max_ls:
            if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
                break
            t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                                   bracket[1], bracket_f[1], bracket_gtd[1])
            # A trial too close to an end of the bracket makes little progress: after two
            # such trials in a row (or one outside the bracket), move it 10% inside.
            eps = 0.1 * (max(bracket) - min(bracket))
            if min(max(bracket) - t, t - min(bracket)) < eps:
                if insuf_progress or t >= max(bracket) or t <= min(bracket):
                    if abs(t - max(bracket)) < abs(t - min(bracket)):
                        t = max(bracket) - eps
                    else:
                        t = min(bracket) + eps
                    insuf_progress = False
                else:
                    insuf_progress = True
            else:
                insuf_progress = False
            f_new, g_new, gtd_new = self.trial(t)
            self.iters += 1
            if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
                bracket[high_pos], bracket_f[high_pos] = t, f_new
                bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
                low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
                continue
            done = abs(gtd_new) <= -c2 * gtd
            if not done and gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
            if done:
                break
        return low_pos


def _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag):
    """The L-BFGS search direction -H g by the two-loop recursion over the history."""
    num_old = len(old_dirs)
    al = [None] * num_old
    q = -flat_grad
    for i in range(num_old - 1, -1, -1):
        al[i] = old_stps[i].dot(q) * ro[i]
        q -= al[i] * old_dirs[i]
    r = q * H_diag
    for i in range(num_old):
        be_i = old_dirs[i].dot(r) * ro[i]
        r += (al[i] - be_i) * old_stps[i]
    return r


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None)``.

    ``step(closure)`` needs a closure that clears the gradients, computes the loss,
    calls ``backward`` and returns the loss; it is evaluated several times per step.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _gather_flat_grad(self):
        xp = array_module(self._params[0]._data)
        parts = []
        for p in self._params:
            if p._grad is None:
                parts.append(xp.zeros(p._data.size, dtype=p._data.dtype))
            else:
                parts.append(p._grad._data.reshape(-1))
        return xp.concatenate(parts)

    def _add_grad(self, step_size, update):
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += step_size * update[offset:offset + n].reshape(p._data.shape)
            _bump(p)
            offset += n

    def _clone_param(self):
        return [p._data.copy() for p in self._params]

    def _set_param(self, values):
        for p, v in zip(self._params, values):
            p._data[...] = v
            _bump(p)

    def _evaluate(self, closure):
        with enable_grad():
            return float(closure())

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = self._evaluate(closure)
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; returns the closure's first loss."""
        if closure is None:
            raise RuntimeError("LBFGS requires a closure")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        if float(abs(flat_grad).max()) <= tolerance_grad:
            return orig_loss

        h = _load_history(state)
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                h["d"] = -flat_grad
                h["old_dirs"], h["old_stps"], h["ro"] = [], [], []
                h["H_diag"] = 1
            else:
                _update_direction(h, flat_grad, group["history_size"])
            d = h["d"]
            h["prev_flat_grad"] = flat_grad.copy()
            h["prev_loss"] = loss

            if state["n_iter"] == 1:
                h["t"] = min(1.0, 1.0 / abs(flat_grad).sum()) * lr
            else:
                h["t"] = lr

            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break

            loss, flat_grad, ls_func_evals, opt_cond = self._advance(
                closure, group, h, loss, flat_grad, gtd, n_iter != max_iter)
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(abs(d * h["t"]).max()) <= tolerance_change:
                break
            if abs(loss - h["prev_loss"]) < tolerance_change:
                break

        _save_history(state, h)
        return orig_loss

    def _advance(self, closure, group, h, loss, flat_grad, gtd, evaluate):
        """Move the parameters along ``h["d"]`` (by a line search, or by the step ``h["t"]``);
        returns (loss, flat_grad, evaluations, whether the gradient is small enough)."""
        d, tolerance_grad = h["d"], group["tolerance_grad"]
        line_search_fn = group["line_search_fn"]
        if line_search_fn is not None:
            if line_search_fn != "strong_wolfe":
                raise RuntimeError("only 'strong_wolfe' is supported")
            x_init = self._clone_param()

            def obj_func(x, t, d):
                return self._directional_evaluate(closure, x, t, d)

            loss, flat_grad, h["t"], ls_func_evals = _strong_wolfe(
                obj_func, x_init, h["t"], d, loss, flat_grad, gtd)
            self._add_grad(h["t"], d)
            return loss, flat_grad, ls_func_evals, float(abs(flat_grad).max()) <= tolerance_grad
        self._add_grad(h["t"], d)
        if not evaluate:  # the last iteration: torch does not re-evaluate
            return loss, flat_grad, 0, False
        loss = self._evaluate(closure)
        flat_grad = self._gather_flat_grad()
        return loss, flat_grad, 1, float(abs(flat_grad).max()) <= tolerance_grad


def _update_direction(h, flat_grad, history_size):
    """Add the last step's curvature pair to the history; the new direction into h["d"]."""
    y = flat_grad - h["prev_flat_grad"]
    s = h["d"] * h["t"]
    ys = y.dot(s)
    # Keep the pair only if it preserves positive definiteness (curvature).
    if ys > 1e-10:
        if len(h["old_dirs"]) == history_size:
            h["old_dirs"].pop(0)
            h["old_stps"].pop(0)
            h["ro"].pop(0)
        h["old_dirs"].append(y)
        h["old_stps"].append(s)
        h["ro"].append(1.0 / ys)
        h["H_diag"] = ys / y.dot(y)
    h["d"] = _two_loop_direction(flat_grad, h["old_dirs"], h["old_stps"], h["ro"], h["H_diag"])


def _load_history(state):
    """The optimizer state as arrays (torch keeps it as tensors)."""
    H_diag = _array(state.get("H_diag"))
    return {"d": _array(state.get("d")), "t": state.get("t"),
            "old_dirs": [_array(v) for v in state.get("old_dirs", [])],
            "old_stps": [_array(v) for v in state.get("old_stps", [])],
            "ro": [_array(v)[()] for v in state.get("ro", [])],
            "H_diag": H_diag[()] if H_diag is not None else None,
            "prev_flat_grad": _array(state.get("prev_flat_grad")),
            "prev_loss": state.get("prev_loss")}


def _save_history(state, h):
    d = h["d"]
    state["d"] = _make(d)
    state["t"] = float(h["t"])
    state["old_dirs"] = [_make(v) for v in h["old_dirs"]]
    state["old_stps"] = [_make(v) for v in h["old_stps"]]
    state["ro"] = [_make(_as0d(v, d)) for v in h["ro"]]
    state["H_diag"] = _make(_as0d(h["H_diag"], d))
    state["prev_flat_grad"] = _make(h["prev_flat_grad"])
    state["prev_loss"] = h["prev_loss"]


def _array(v):
    return None if v is None else v._data


def _as0d(v, like):
    return array_module(like).asarray(v, dtype=like.dtype)
