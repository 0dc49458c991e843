"""A compiled forward whose outputs need autograd (``ember.compile(model)`` followed by an
eager ``loss.backward()``): AOTAutograd's split.  The recording ran the forward and then
``autograd.grad`` from placeholder output gradients (trace.py), so it holds the forward's
ops and the backward's; the forward replays them up to the split and returns its outputs
with one graph node, ``CompiledFunctionBackward`` (torch's name), whose backward replays
the rest with the forward's values and the gradients the engine hands it."""
import numpy as np

from .._tensor import _make
from ..autograd.graph import Node, edge_of
from .program import Program
from .trace import Instr


class AotProgram:
    def __init__(self, trace):
        fwd_steps, bwd_steps = trace.steps[:trace.bwd_start], trace.steps[trace.bwd_start:]
        produced = {o for st in fwd_steps if isinstance(st, Instr) for o in st.outs}
        saved = {a[1] for st in bwd_steps if isinstance(st, Instr) for a in st.args
                 if a[0] == "s" and a[1] in produced}
        self.fwd = Program(trace, fwd_steps, escape=saved)
        self.bwd = Program(trace, bwd_steps, outputs=trace.bwd_outputs, spec=None)
        self.gout = sorted((b[1], self.fwd.ext_index[s]) for s, b in trace.externals.items()
                           if b[0] == "gout")
        self.inputs = [trace.externals[s] for s in trace.bwd_inputs]
        self.needing = set(trace.needing)
        self.outputs, self.spec = self.fwd.outputs, self.fwd.spec

    def externals_for(self, arrays):
        return self.fwd.externals_for(arrays)

    def run(self, X, arg_tensors):
        inputs = [arg_tensors[b[1]] if b[0] == "arg" else b[1] for b in self.inputs]
        if not all(t._requires_grad for t in inputs):
            return None   # a parameter was frozen since: record again
        V = self.fwd.run_raw(X, arg_tensors)
        node = CompiledFunctionBackward()
        node.next_functions = tuple(edge_of(t) for t in inputs)
        node._program, node._X, node._V = self, X, V
        node._num_outputs = len(self.needing)
        leaves, nr = [], 0
        for j, r in enumerate(self.outputs):
            if r[0] == "s":
                t = _make(V[r[1]])
                if j in self.needing:
                    t._grad_fn, t._output_nr, t._requires_grad = node, nr, True
                    nr += 1
                leaves.append(t)
            else:
                leaves.append(arg_tensors[r[1]] if r[0] == "a" else r[1])
        node._out_slots = [r[1] for j, r in enumerate(self.outputs) if j in self.needing]
        from ..utils._pytree import tree_unflatten
        return tree_unflatten(leaves, self.spec)


class CompiledFunctionBackward(Node):
    """The one graph node of a compiled forward: its backward is the recorded backward
    program.  Its gradients carry no graph of their own (no double backward through it)."""

    def apply(self, grads):
        if self._V is None:
            raise RuntimeError("Trying to backward through the graph a second time (or directly "
                               "access saved tensors after they have already been freed). "
                               "Saved intermediate values of the graph are freed when you call "
                               ".backward() or autograd.grad(). Specify retain_graph=True if "
                               "you need to backward through the graph a second time or if you "
                               "need to access saved tensors after calling backward.")
        prog = self._program
        X = list(self._X)
        for (j, k), s in zip(prog.gout, self._out_slots):
            g = grads[j]
            X[k] = np.zeros_like(self._V[s]) if g is None else g._data
        V = prog.bwd.run_raw(X, None, list(self._V))
        return [None if r[0] == "c" else _make(V[r[1]]) for r in prog.bwd.outputs]

    def _release(self):
        self._V = self._X = None
