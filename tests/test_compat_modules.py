"""ember.utils._pytree, ember.jit, ember._dynamo, ember.compiler and ember.nn.attention
against torch's."""
import collections

import pytest
import torch
import torch._dynamo
import torch.nn.attention
import torch.utils._pytree as tp

import ember
import ember._dynamo
import ember.compiler
import ember.jit
import ember.nn.attention
import ember.utils._pytree as ep

NT = collections.namedtuple("NT", "a b")

TREES = [
    1, None, [], (), {}, [1, [2, (3, None)]], (1,),
    {"b": [1, (2, None)], "a": NT(3, collections.OrderedDict(x=4)), "c": None},
    {"d": collections.defaultdict(int, k=5), "e": collections.deque([6, 7], maxlen=4)},
    [NT(1, [2, 3]), {"z": (4,), "y": {}}],
]


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_pytree_flatten_as_torch(tree):
    leaves, spec = ep.tree_flatten(tree)
    t_leaves, t_spec = tp.tree_flatten(tree)
    assert leaves == t_leaves
    assert repr(spec) == repr(t_spec) and str(spec) == str(t_spec)
    assert (spec.num_leaves, spec.num_nodes, spec.num_children) == \
        (t_spec.num_leaves, t_spec.num_nodes, t_spec.num_children)
    assert spec.is_leaf() == t_spec.is_leaf()
    rebuilt = ep.tree_unflatten(leaves, spec)
    assert rebuilt == tp.tree_unflatten(t_leaves, t_spec) and type(rebuilt) is type(tree)
    assert ep.tree_leaves(tree) == tp.tree_leaves(tree)
    assert ep.tree_structure(tree) == spec
    assert ep.treespec_pprint(spec) == tp.treespec_pprint(t_spec)


def test_pytree_spec_equality_and_hash():
    a = ep.tree_structure([1, {"k": 2}])
    assert a == ep.tree_structure([5, {"k": 6}]) and hash(a) == hash(ep.tree_structure([5, {"k": 6}]))
    assert a != ep.tree_structure([5, {"j": 6}]) and a != ep.tree_structure((5, {"k": 6}))


def _error(fn):
    try:
        fn()
    except Exception as e:  # the raised error is what is compared
        return type(e), str(e)
    return None


def test_pytree_errors_as_torch():
    spec, t_spec = ep.tree_structure([1, (2, 3)]), tp.tree_structure([1, (2, 3)])
    assert _error(lambda: ep.tree_unflatten([1], spec)) == \
        _error(lambda: tp.tree_unflatten([1], t_spec))
    add = lambda a, b: a + b  # noqa: E731
    assert _error(lambda: ep.tree_map(add, [1, (2, 3)], [1, [2, 3]])) == \
        _error(lambda: tp.tree_map(add, [1, (2, 3)], [1, [2, 3]]))


def test_pytree_maps_as_torch():
    tree = {"a": [1, 2.5, "s"], "b": (3, None)}
    for name, args in [("tree_map", (lambda x: (x, 0), tree)),
                       ("tree_map", (lambda x, y: (x, y), [1, (2, 3)], [4, ([5], 6)])),
                       ("tree_map_only", (int, lambda x: -x, tree)),
                       ("tree_map_only", ((int, float), lambda x: x * 2, tree)),
                       ("tree_all", (lambda x: x is not None, tree)),
                       ("tree_any", (lambda x: x == 3, tree)),
                       ("tree_all_only", (int, lambda x: x > 0, tree)),
                       ("tree_any_only", (str, lambda x: x == "s", tree))]:
        assert getattr(ep, name)(*args) == getattr(tp, name)(*args), name
    seen = []
    assert ep.tree_map_(seen.append, tree) is tree and seen == tp.tree_leaves(tree)
    assert ep.tree_leaves(tree, is_leaf=lambda x: isinstance(x, list)) == \
        tp.tree_leaves(tree, is_leaf=lambda x: isinstance(x, list))


def test_pytree_with_tensors():
    tree = {"w": ember.ones(2), "b": [ember.zeros(1), 3]}
    doubled = ep.tree_map_only(ember.Tensor, lambda t: t * 2, tree)
    assert doubled["w"].tolist() == [2.0, 2.0] and doubled["b"][1] == 3


def test_register_pytree_node():
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    for lib in (ep, tp):
        lib.register_pytree_node(Point, lambda p: ([p.x, p.y], None),
                                 lambda c, _: Point(*c))
    leaves, spec = ep.tree_flatten([Point(1, 2)])
    t_leaves, t_spec = tp.tree_flatten([Point(1, 2)])
    assert leaves == t_leaves == [1, 2] and repr(spec) == repr(t_spec)
    assert ep.tree_map(lambda v: v * 10, Point(1, 2)).y == 20
    with pytest.raises(ValueError, match="already registered"):
        ep.register_pytree_node(Point, lambda p: ([], None), lambda c, _: Point(0, 0))


def test_jit_script_and_trace_return_working_callables():
    def f(x):
        return x * 2 + 1

    x = [1.0, 2.0]
    for lib in (torch, ember):
        scripted = lib.jit.script(lib.nn.Linear(2, 1))
        assert isinstance(scripted, lib.nn.Module)
        traced = lib.jit.trace(f, (lib.tensor(x),))
        assert traced(lib.tensor(x)).tolist() == [3.0, 5.0]
        assert lib.jit.is_scripting() is False and lib.jit.is_tracing() is False
    model = ember.nn.Linear(2, 1)
    assert ember.jit.script(model) is model
    assert isinstance(ember.jit.ScriptModule(), ember.nn.Module)


def test_jit_trace_runs_the_function_on_the_examples():
    calls = []

    def f(x, y):
        calls.append(ember.is_grad_enabled())
        return x + y

    assert ember.jit.trace(f, (ember.ones(1), ember.ones(1))) is f and len(calls) == 1
    with pytest.raises(TypeError):
        ember.jit.trace(f, (ember.ones(1),))
    module = ember.nn.Linear(3, 2)
    with pytest.raises(RuntimeError):  # the example does not fit, as torch's trace reports
        ember.jit.trace(module, ember.ones(4))
    with pytest.raises(RuntimeError):
        torch.jit.trace(torch.nn.Linear(3, 2), torch.ones(4))


def test_jit_decorators_pass_through():
    def f(x):
        return x

    for lib in (torch, ember):
        assert lib.jit.ignore(f)(3) == 3 and lib.jit.ignore(drop=True)(f)(3) == 3
        assert lib.jit.unused(f)(3) == 3 and lib.jit.export(f)(3) == 3
        assert lib.jit.annotate(int, 4) == 4
    assert ember.jit.Attribute(5, int) == 5 and ember.jit.Final is torch.jit.Final
    assert ember.jit.fork(f, 7).wait() == 7 and ember.jit.wait(ember.jit.fork(f, 8)) == 8
    with pytest.raises(RuntimeError, match="torch.jit.save: Ember has no TorchScript"):
        ember.jit.save(ember.nn.Linear(1, 1), "m.pt")


def test_dynamo_and_compiler_switches():
    def f(x):
        return x

    for lib in (torch, ember):
        assert lib._dynamo.is_compiling() is False and lib.compiler.is_compiling() is False
        assert lib.compiler.is_dynamo_compiling() is False
        assert lib._dynamo.disable(f)(1) == 1 and lib.compiler.disable(f)(2) == 2
        assert lib._dynamo.allow_in_graph(f) is f
        lib._dynamo.mark_dynamic(lib.ones(2, 3), 0)
        lib._dynamo.reset()
    ember._dynamo.config.suppress_errors = True
    assert ember._dynamo.config.suppress_errors is True
    ember._dynamo.config.suppress_errors = False
    with ember._dynamo.config.patch(cache_size_limit=64):
        assert ember._dynamo.config.cache_size_limit == 64
    assert ember._dynamo.config.cache_size_limit == 8
    ember._dynamo.graph_break()


def test_sdp_backend_and_sdpa_kernel():
    assert [(b.name, int(b)) for b in ember.nn.attention.SDPBackend] == \
        [(n, int(v)) for n, v in torch.nn.attention.SDPBackend.__members__.items()]
    for lib in (torch, ember):
        att = lib.nn.attention
        with att.sdpa_kernel(att.SDPBackend.MATH):
            q = lib.ones(1, 2, 3)
            out = lib.nn.functional.scaled_dot_product_attention(q, q, q)
        assert out.shape == (1, 2, 3)
        with att.sdpa_kernel([att.SDPBackend.MATH, att.SDPBackend.FLASH_ATTENTION]):
            pass
    with pytest.raises(AssertionError) as expected:
        with torch.nn.attention.sdpa_kernel("math"):
            pass
    with pytest.raises(AssertionError) as got:
        with ember.nn.attention.sdpa_kernel("math"):
            pass
    assert str(got.value) == str(expected.value)
