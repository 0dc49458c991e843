"""A recorded call turned into straight-line Python over raw arrays (see trace.py).

Each segment between opaque steps becomes one generated function: one line per recorded
op calling the op's forward directly (no promotion logic, no Tensor objects, no graph
nodes), with the dtype casts the dispatcher made written out as ``astype``.  Elementwise
ops whose forward is a plain NumPy ufunc call write into buffers planned once from the
values' lifetimes and reused by every replay (a chain of them runs in one or two buffers,
in place where an input dies at the op); a value that leaves the program (a returned
tensor, a ``.grad``, a value a later segment reads) is never in a planned buffer, so
nothing a caller holds is overwritten by the next call.
"""
import numpy as np

from .._tensor import _make
from .lowering import PRODUCTS as _PRODUCTS, ufunc_for as _ufunc_for
from .trace import Instr, Opaque

_asarray = np.asarray


class Program:
    """``steps`` (default: the whole recording) as generated segments; ``outputs`` are the
    refs the run returns; ``escape`` the slots another program (a backward) reads from V."""

    def __init__(self, trace, steps=None, outputs=None, spec=None, escape=()):
        self.trace = trace
        self.steps = trace.steps if steps is None else steps
        self.extra_escape = set(escape)
        self.externals = sorted(trace.externals)
        self.ext_index = {s: k for k, s in enumerate(self.externals)}
        self.live = [(k, b[1], trace.arrays[s]) for k, s in enumerate(self.externals)
                     for b in [trace.externals[s]] if b[0] == "live"]
        self.args_at = [(k, b[1]) for k, s in enumerate(self.externals)
                        for b in [trace.externals[s]] if b[0] == "arg"]
        self.outputs = trace.outputs if outputs is None else outputs
        self.spec = trace.spec if outputs is None else spec
        self.guards = trace.guards
        self._plan()
        self._generate()

    # -- analysis --
    def _plan(self):
        tr = self.trace
        steps = self.steps
        instrs = [st for st in steps if isinstance(st, Instr)]
        seg_of, seg, seg_ins = {}, 0, {}
        for st in steps:
            if isinstance(st, Instr):
                seg_ins[id(st)] = seg
                for o in st.outs:
                    seg_of[o] = seg
            elif isinstance(st, tuple):
                seg += 1
        escaping = set(self.extra_escape)
        for st in steps:
            if isinstance(st, tuple):
                for e in st[1]:
                    if len(e) > 2 and e[0] != "step":
                        escaping.add(e[2])
        escaping.update(r[1] for r in self.outputs if r[0] == "s")
        last_use, used_in = {}, {}
        for i, ins in enumerate(instrs):
            for a in ins.args:
                if a[0] == "s":
                    last_use[a[1]] = i
                    used_in.setdefault(a[1], set()).add(seg_ins[id(ins)])
        for s, segs in used_in.items():
            if s in seg_of and any(g != seg_of[s] for g in segs):
                escaping.add(s)
        # Views: an output sharing memory with an input keeps that input's buffer alive.
        root = {}

        def find(s):
            while root.get(s, s) != s:
                s = root[s]
            return s
        for ins in instrs:
            for o in ins.outs:
                oa = tr.arrays[o]
                for a in ins.args:
                    if a[0] == "s" and a[2] is None and np.may_share_memory(oa, tr.arrays[a[1]]):
                        root[find(o)] = find(a[1])
        life, esc_root = {}, set()
        for i, ins in enumerate(instrs):
            for o in ins.outs:
                r = find(o)
                life[r] = max(life.get(r, i), last_use.get(o, i))
                if o in escaping:
                    esc_root.add(r)
        for s in escaping:
            esc_root.add(find(s))
        # Which ops run as a ufunc into a planned buffer.
        fused, buffers, pool, released = {}, [], {}, set()
        ending = {}
        for r, end in life.items():
            ending.setdefault(end, []).append(r)

        def release(r):
            if r in fused_buf and r not in released:
                released.add(r)
                b = fused_buf[r]
                pool.setdefault((buffers[b].shape, buffers[b].dtype), []).append(b)
        fused_buf = {}
        for i, ins in enumerate(instrs):
            o = ins.outs[0] if ins.outs else None
            uf = _ufunc_for(ins)
            if uf is not None and len(ins.outs) == 1 and find(o) == o and o not in esc_root \
                    and ins.lowered:
                if uf[0] not in _PRODUCTS:   # elementwise: may write over a dying input
                    for a in ins.args:
                        if a[0] == "s" and life.get(find(a[1])) == i:
                            release(find(a[1]))
                oa = tr.arrays[o]
                key = (oa.shape, oa.dtype)
                free = pool.get(key)
                if free:
                    b = free.pop()
                else:
                    b = len(buffers)
                    buffers.append(np.empty(oa.shape, oa.dtype))
                fused_buf[o] = b
                fused[id(ins)] = (uf, b)
            for r in ending.get(i, ()):
                release(r)
        self.instrs, self.fused, self.buffers = instrs, fused, buffers
        self.escaping = escaping

    # -- code --
    def _generate(self):
        tr = self.trace
        ns = {"_asarray": _asarray}
        consts = {}

        def const(v):
            k = consts.get(id(v))
            if k is None:
                k = consts[id(v)] = f"C{len(consts)}"
                ns[k] = v
            return k
        self._keep = []
        segments, lines, loaded, defined = [], [], set(), set()
        parts = []

        def finish():
            src = "def seg(X, V):\n" + ("\n".join(lines) or "    pass") + "\n"
            code = compile(src, f"<ember.compile segment {len(segments)}>", "exec")
            scope = dict(ns)
            exec(code, scope)
            segments.append(scope["seg"])
            parts.append(("seg", scope["seg"]))

        def ref(s):
            if s in tr.externals:
                if s not in loaded:
                    lines.append(f"    v{s} = X[{self.ext_index[s]}]")
                    loaded.add(s)
            elif s not in defined:
                lines.append(f"    v{s} = V[{s}]")
                defined.add(s)
            return f"v{s}"
        for st in self.steps:
            if isinstance(st, Instr):
                args = []
                for a in st.args:
                    if a[0] == "c":
                        args.append(const(a[1]) if a[1] is not None else "None")
                    elif a[2] is None:
                        args.append(ref(a[1]))
                    else:
                        args.append(f"{ref(a[1])}.astype({const(a[2])})")
                f = self.fused.get(id(st))
                outs = [f"v{o}" for o in st.outs]
                if f is not None:
                    (uf, extra), b = f
                    if extra:
                        args.append(const(tr.arrays[st.outs[0]].dtype.type(0)))
                    call = f"{const(uf)}({', '.join(args)}, out={const(self.buffers[b])})"
                else:
                    kw = "".join(f", {k}={const(v)}" for k, v in st.params.items())
                    call = f"{const(st.forward)}({', '.join(args)}{kw})"
                    if not args and kw:
                        call = call.replace("(, ", "(")
                if len(outs) == 1:
                    lines.append(f"    {outs[0]} = " +
                                 (f"_asarray({call})" if st.zero_d[0] else call))
                else:
                    lines.append(f"    _r = {call}")
                    for j, o in enumerate(outs):
                        lines.append(f"    {o} = " + (f"_asarray(_r[{j}])" if st.zero_d[j]
                                                      else f"_r[{j}]"))
                defined.update(st.outs)
                for o in st.outs:
                    if o in self.escaping:
                        lines.append(f"    V[{o}] = v{o}")
            elif isinstance(st, tuple):
                finish()
                parts.append(("effects", st[1]))
                lines, loaded, defined = [], set(), set()
            elif isinstance(st, Opaque):
                parts.append(("opaque", st))
        if lines:
            finish()
        self.parts = parts
        self.nslots = len(tr.arrays)

    # -- running --
    def externals_for(self, arg_arrays):
        """The external arrays for one replay, or None if a live tensor no longer fits
        (another shape or dtype: the program is stale)."""
        for d, k, v in self.guards:
            if d.get(k) is not v:
                return None
        X = [None] * len(self.externals)
        for k, t, a in self.live:
            d = t._data
            if d is not a:
                if d.shape != a.shape or d.dtype != a.dtype:
                    return None
            X[k] = d
        for k, j in self.args_at:
            X[k] = arg_arrays[j]
        return X

    def run(self, X, arg_tensors, V=None):
        V = self.run_raw(X, arg_tensors, V)
        from ..utils._pytree import tree_unflatten
        leaves = [_make(V[r[1]]) if r[0] == "s" else arg_tensors[r[1]] if r[0] == "a" else r[1]
                  for r in self.outputs]
        return tree_unflatten(leaves, self.spec)

    def run_raw(self, X, arg_tensors, V=None):
        if V is None:
            V = [None] * self.nslots
        for kind, p in self.parts:
            if kind == "seg":
                p(X, V)
            elif kind == "effects":
                _apply_effects(p, V, arg_tensors)
            else:
                p.obj.step(*p.args, **p.kwargs)
        return V


def _apply_effects(effects, V, args):
    for e in effects:
        kind, t = e[0], e[1]
        if type(t) is int:
            t = args[t]
        if kind == "grad":
            v = V[e[2]]
            t._grad = _make(v.copy() if e[3] else v)
        elif kind == "grad_none":
            t._grad = None
        elif kind == "write":
            np.copyto(t._data, V[e[2]])
            t._vc[0] += 1
        elif kind == "step":
            d = t._data
            d += np.asarray(e[2], dtype=d.dtype).reshape(d.shape)
            t._vc[0] += 1
        elif kind == "grad_write":
            np.copyto(t._grad._data, V[e[2]])
            t._grad._vc[0] += 1
        else:  # "data"
            t._data = V[e[2]]
