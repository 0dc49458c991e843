"""The backward engine: an iterative walk of the graph in dependency order.

1. Count, for every node reachable from the roots, how many edges lead into it.
2. Start from the roots; a node runs once every edge into it has delivered (its
   count drops to zero), so each node runs exactly once, after all its consumers.
3. Gradients arriving at the same (node, output_nr) are summed in a buffer.
4. After a node runs, its saved tensors are released unless ``retain_graph``.

No recursion anywhere, so a 100,000-op chain is as fine as a 3-op one.  The walk
runs with grad mode set to ``create_graph``: without it, backward formulas (which
are ordinary Ember ops) record nothing and cost nothing extra.
"""
import threading

from . import grad_mode
from .graph import AccumulateGrad, edge_of


class _Profiling(threading.local):
    # ember.profiler sets ``around(node, buf, run)`` on its thread to time each node's
    # ``run(node, buf)``; a walk reads it once, so a backward outside profiling pays one read.
    around = None


profiling = _Profiling()


def _clone_data(t):
    from .._tensor import _make
    return _make(t._data.copy())


def accumulate_grad(variable, g, create_graph, shared):
    """Add ``g`` into ``variable.grad`` the way torch's AccumulateGrad does."""
    old = variable._grad
    if g.is_sparse or (old is not None and old.is_sparse):
        _accumulate_sparse(variable, old, g, create_graph, shared)
    elif old is None:
        # Never let .grad alias another tensor's memory: later in-place
        # accumulation (or an optimizer's grad.mul_) would corrupt it.
        if not create_graph:
            g = g.detach() if g._grad_fn is not None else g
            data = g._data
            if shared or data.base is not None or not data.flags.c_contiguous:
                g = _clone_data(g)
        elif shared or g._base is not None or not g._data.flags.c_contiguous:
            # differentiable, as torch's copy under create_graph; the copy is contiguous and
            # owns its memory (torch's layout contract), so grad.view(...) and
            # grad.detach_() work as on torch's
            g = g.clone()
        variable._grad = g
    elif create_graph or old._requires_grad:
        variable._grad = old + g
    else:
        od = old._data
        if od.shape == g._data.shape and od.flags.writeable:
            od += g._data
            old._vc[0] += 1
        else:
            variable._grad = old + g
    if variable._post_acc_hooks:
        for hook in list(variable._post_acc_hooks.values()):
            hook(variable)


def _accumulate_sparse(variable, old, g, create_graph, shared):
    """torch's AccumulateGrad with a sparse side: a new sparse grad is stored as is (a copy
    when shared), later ones are summed (sparse + sparse stays sparse, uncoalesced)."""
    if old is None:
        if not create_graph:
            g = g.detach()
        # strided values are copied (torch clones them), so later sums merge as torch's
        variable._grad = g.clone() if shared or not g._val._data.flags.c_contiguous else g
    elif old.is_sparse:
        variable._grad = old + g if g.is_sparse else g + old
    else:
        variable._grad = old + g


def _run_tensor_hooks(node, buf):
    for nr, hooks in node._tensor_hooks.items():
        if nr < len(buf) and buf[nr] is not None:
            for hook in list(hooks.values()):
                new = hook(buf[nr])
                if new is not None:
                    buf[nr] = new


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=False):
    """Backpropagate ``root_grads`` from ``roots`` (a list of (node, output_nr)).

    With ``inputs`` (tensors), gradients stop at those tensors; with
    ``accumulate=False`` (autograd.grad) they are returned instead of being added
    into ``.grad``.
    """
    task = _GraphTask(retain_graph, create_graph, inputs, accumulate)
    root_nodes, order = task.count_dependencies(roots)
    if inputs is not None:
        task.plan_capture(order)
    task.seed(roots, root_grads)
    prev = grad_mode._state.enabled
    grad_mode._state.enabled = bool(create_graph)
    try:
        task.walk(root_nodes)
    finally:
        grad_mode._state.enabled = prev
    if inputs is not None and not accumulate and not allow_unused:
        for i, g in enumerate(task.captured):
            if g is None:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior.")
    return task.captured


class _GraphTask:
    """The state of one backward pass (torch's GraphTask): dependency counts, gradient
    buffers, and where gradients are captured."""

    def __init__(self, retain_graph, create_graph, inputs, accumulate):
        self.retain_graph = retain_graph
        self.create_graph = create_graph
        self.inputs = inputs
        self.accumulate = accumulate
        self.deps = {}        # node -> edges into it not yet delivered
        self.buffers = {}     # node -> gradients summed per output_nr
        self.shared = set()   # ids of gradient objects handed to more than one place
        self.capture = None   # node -> [(output_nr, input index)] (autograd.grad / inputs=)
        self.needed = None    # with capture: the nodes that lead to a captured one
        self.captured = [None] * (len(inputs) if inputs is not None else 0)

    def count_dependencies(self, roots):
        """Phase 1: count the edges into every node reachable from the roots; returns
        the distinct root nodes and the nodes in discovery order."""
        deps = self.deps
        root_nodes = []
        for node, _ in roots:
            if node not in deps:
                deps[node] = 0
                root_nodes.append(node)
        stack = list(root_nodes)
        order = []
        while stack:
            node = stack.pop()
            order.append(node)
            for nxt, _ in node.next_functions:
                if nxt is not None:
                    if nxt in deps:
                        deps[nxt] += 1
                    else:
                        deps[nxt] = 1
                        stack.append(nxt)
        return root_nodes, order

    def plan_capture(self, order):
        """Where the gradients of ``inputs`` are captured, and which nodes lead there."""
        capture = self.capture = {}
        for i, t in enumerate(self.inputs):
            node, nr = edge_of(t)
            if node is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(node, []).append((nr, i))
        self.needed = _needed_nodes(order, self.deps, capture)

    def seed(self, roots, root_grads):
        """Phase 2: the root gradients go into their nodes' buffers."""
        buffers = self.buffers
        for (node, nr), g in zip(roots, root_grads):
            buf = buffers.get(node)
            if buf is None:
                buf = buffers[node] = [None] * node._num_outputs
            buf[nr] = g if buf[nr] is None else buf[nr] + g
            self.shared.add(id(g))  # the caller still holds it

    def walk(self, root_nodes):
        """Phase 3: run each node once all the edges into it have delivered."""
        deps, buffers, shared = self.deps, self.buffers, self.shared
        capture, needed, retain_graph = self.capture, self.needed, self.retain_graph
        anomaly = grad_mode._anomaly.enabled
        around = profiling.around
        ready = [n for n in root_nodes if deps[n] == 0]
        pop_ready, push_ready = ready.pop, ready.append
        pop_buffer, get_buffer = buffers.pop, buffers.get
        while ready:
            node = pop_ready()
            buf = pop_buffer(node, None)
            if buf is not None:
                if node._tensor_hooks:
                    _run_tensor_hooks(node, buf)
                if node._retained:
                    _retain(node, buf)
                if capture is not None:
                    if node in capture:
                        self.take(node, buf)
                    if node not in needed:
                        buf = None  # nothing we want lies beyond this node
            if type(node) is AccumulateGrad:
                if buf is not None and buf[0] is not None:
                    if around is not None:
                        around(node, buf, self.accumulate_into_leaf)
                    else:
                        self.accumulate_into_leaf(node, buf)
                continue
            grads_in = None
            if buf is not None and (buf[0] is not None if len(buf) == 1 else
                                    any(g is not None for g in buf)):
                if node._pre_hooks:
                    buf = _call_pre_hooks(node, buf)
                if around is not None:
                    grads_in = around(node, buf, _apply_anomalous if anomaly else _apply)
                else:
                    grads_in = _apply_anomalous(node, buf) if anomaly else node.apply(buf)
                if node._post_hooks:
                    grads_in = _call_post_hooks(node, grads_in, buf)
                if not retain_graph:
                    node._release()
            k = -1
            for nxt, nr in node.next_functions:
                k += 1
                if nxt is None:
                    continue
                if grads_in is not None:
                    g = grads_in[k]
                    if g is not None:
                        b = get_buffer(nxt)
                        if b is None:
                            b = buffers[nxt] = [None] * nxt._num_outputs
                        old = b[nr]
                        if old is None:
                            # A gradient passed through unchanged (AddBackward's) or handed
                            # to two inputs must not become two leaves' .grad unshared.
                            if g is buf[0] or len(buf) > 1 and _holds(buf, g, len(buf)) or \
                                    k and _holds(grads_in, g, k):
                                shared.add(id(g))
                            b[nr] = g
                        else:
                            b[nr] = old + g
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    push_ready(nxt)

    def take(self, node, buf):
        """Capture the gradients ``node`` received for the requested inputs."""
        inputs, captured = self.inputs, self.captured
        for nr, i in self.capture[node]:
            g = buf[nr]
            if g is None:
                continue
            if self.accumulate:
                accumulate_grad(inputs[i], g, self.create_graph, True)
            else:
                captured[i] = g if captured[i] is None else captured[i] + g

    def accumulate_into_leaf(self, node, buf):
        if node._pre_hooks:
            buf = _call_pre_hooks(node, buf)
        accumulate_grad(node.variable, buf[0], self.create_graph, id(buf[0]) in self.shared)
        if node._post_hooks:
            for hook in list(node._post_hooks.values()):
                hook((), (buf[0],))


def _holds(seq, g, n):
    """Whether ``g`` is one of the first ``n`` entries of ``seq`` (by identity)."""
    for i in range(n):
        if seq[i] is g:
            return True
    return False


def _apply(node, buf):
    return node.apply(buf)


def _apply_anomalous(node, buf):
    """node.apply under anomaly mode: NaN check, and the forward trace on failure."""
    from .anomaly_mode import check_nan, warn_forward_trace
    try:
        grads_in = node.apply(buf)
        if grad_mode._anomaly.check_nan:
            check_nan(node, grads_in)
    except Exception:
        warn_forward_trace(node)
        raise
    return grads_in


def _call_pre_hooks(node, buf):
    for hook in list(node._pre_hooks.values()):
        new = hook(tuple(buf))
        if new is not None:
            buf = _checked_hook_result(hook, new, len(buf))
    return buf


def _call_post_hooks(node, grads_in, buf):
    for hook in list(node._post_hooks.values()):
        new = hook(tuple(grads_in), tuple(buf))
        if new is not None:
            grads_in = _checked_hook_result(hook, new, len(grads_in))
    return grads_in


def _checked_hook_result(hook, new, expected):
    new = list(new)
    if len(new) != expected:
        raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has returned an incorrect "
                           f"number of values (got {len(new)}, but expected {expected})")
    return new


def _retain(node, buf):
    for nr, ref in list(node._retained.items()):
        t = ref()
        if t is None or nr >= len(buf) or buf[nr] is None:
            continue
        g = buf[nr]
        if t._grad is None:
            t._grad = g.detach().clone() if not grad_mode._state.enabled else g.clone()
        else:
            t._grad = t._grad + g


def _needed_nodes(order, deps, capture):
    """Nodes that must run: those with a path to a captured node.

    Walks a topological order (Kahn's, on a copy of the dependency counts) from the
    sinks back, so every node is decided after all of its successors.
    """
    remaining = dict(deps)
    topo = []
    ready = [n for n in order if remaining[n] == 0]
    while ready:
        node = ready.pop()
        topo.append(node)
        for nxt, _ in node.next_functions:
            if nxt is not None:
                remaining[nxt] -= 1
                if remaining[nxt] == 0:
                    ready.append(nxt)
    needed = set()
    for node in reversed(topo):
        for nxt, _ in node.next_functions:
            if nxt is not None and (nxt in needed or nxt in capture):
                needed.add(node)
                break
    return needed
