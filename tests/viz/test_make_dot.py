"""ember.viz.make_dot: the DOT text holds the graph's nodes, edges and labels, as
torchviz draws torch's graph of the same program."""
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch

import ember
from ember._ops.registry import OpNode

pytestmark = pytest.mark.filterwarnings("ignore:distutils Version:DeprecationWarning")
graphviz = pytest.importorskip("graphviz")
torchviz = pytest.importorskip("torchviz")
from ember.viz import INSTALL_HINT, make_dot, saved_values  # noqa: E402

HAS_DOT = shutil.which("dot") is not None
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _normalized(source):
    """Object ids become n0, n1, ... in order of first appearance."""
    ids = {}
    return re.sub(r"\b\d{6,}\b", lambda m: ids.setdefault(m.group(0), f"n{len(ids)}"), source)


def _seed(lib):
    x = lib.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    return z.mean(), {"x": x}


def _mlp(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    x = lib.randn(5, 3)
    return model(x).sum(1), dict(model.named_parameters())


def _two_outputs_and_a_view(lib):
    x = lib.ones(3, requires_grad=True)
    return (x.exp().sum(), (x * 2)[1:]), None


@pytest.mark.parametrize("build", [_seed, _mlp, _two_outputs_and_a_view])
def test_same_dot_text_as_torchviz_on_torch(build):
    out_t, params_t = build(torch)
    out_e, params_e = build(ember)
    expected = _normalized(torchviz.make_dot(out_t, params=params_t).source)
    got = make_dot(out_e, params=params_e)
    assert isinstance(got, graphviz.Digraph)
    assert _normalized(got.source) == expected


def test_saved_tensors_drawn_as_torchviz_draws_them():
    out_t, params_t = _seed(torch)
    out_e, params_e = _seed(ember)
    expected = torchviz.make_dot(out_t, params=params_t, show_saved=True).source
    assert _normalized(make_dot(out_e, params=params_e, show_saved=True).source) == \
        _normalized(expected)


def _parse(source):
    """{node id: label} and [(tail, head, attrs)] from DOT text written by graphviz."""
    nodes = dict(re.findall(r'^\t(\d+) \[label="?(.*?)"?(?: fillcolor=\w+)?\]$', source,
                            flags=re.M | re.S))
    edges = re.findall(r"^\t(\d+) -> (\d+)(?: \[(.*?)\])?$", source, flags=re.M)
    return nodes, edges


def _walk(fn, seen):
    if fn is None or fn in seen:
        return
    seen.add(fn)
    for nxt, _ in fn.next_functions:
        _walk(nxt, seen)


def test_every_node_and_edge_of_the_graph_is_drawn():
    lin = ember.nn.Linear(3, 2)
    x = ember.randn(4, 3, requires_grad=True)
    out = (lin(x).relu() * x.sum(1, keepdim=True)).pow(2).sum()
    nodes, edges = _parse(make_dot(out, params=dict(lin.named_parameters())).source)
    fns = set()
    _walk(out.grad_fn, fns)
    for fn in fns:
        assert nodes[str(id(fn))] == type(fn).__name__
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                assert (str(id(nxt)), str(id(fn)), "") in edges
    assert {"weight\n (2, 3)", "bias\n (2)", "\n (4, 3)", "\n ()"} <= set(nodes.values())
    n_next = sum(1 for fn in fns for nxt, _ in fn.next_functions if nxt is not None)
    # graph edges, one per leaf into its AccumulateGrad, and the root into the output box
    assert len(edges) == n_next + 3 + 1


def test_show_attrs_lists_what_each_node_saved():
    x = ember.randn(3, 4, requires_grad=True)
    out = x.sum(1, keepdim=True).pow(3).mean()
    source = make_dot(out, show_attrs=True).source
    sum_node = out.grad_fn.next_functions[0][0].next_functions[0][0]
    assert type(sum_node).__name__ == "SumBackward1"
    values = saved_values(sum_node)
    torch_sum = torch.randn(3, 4, requires_grad=True).sum(1, keepdim=True).grad_fn
    assert values["dim"] == torch_sum._saved_dim and values["keepdim"] is True
    label = re.search(r'label="(SumBackward1\n.*?)"', source, flags=re.S).group(1)
    lines = label.split("\n")
    assert set(lines[1]) == {"-"}
    assert {ln.split(":")[0].strip(): ln.split(":", 1)[1].strip() for ln in lines[2:]} == {
        k: "[saved tensor]" if isinstance(v, ember.Tensor) else str(v) for k, v in values.items()}
    pow_label = re.search(r'label="(PowBackward0\n.*?)"', source, flags=re.S).group(1)
    assert re.search(r"\nexponent:\s+3\n", pow_label)
    assert re.search(r"\nself\s+: \[saved tensor\]", pow_label)


def test_max_attr_chars_truncates_long_values():
    x = ember.randn(2, 3, 4, requires_grad=True)
    out = x.permute(2, 0, 1).sum()
    label = re.search(r'label="(PermuteBackward0\n.*?)"',
                      make_dot(out, show_attrs=True, max_attr_chars=5).source,
                      flags=re.S).group(1)
    assert "dims: (2..." in label


def test_custom_function_nodes_and_no_saved_attributes():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ember.ones(3, requires_grad=True)
    out = Square.apply(x).sum()
    nodes, _ = _parse(make_dot(out).source)
    assert sorted(nodes.values()) == sorted(["\n ()", "SumBackward0", "SquareBackward",
                                             "AccumulateGrad", "\n (3)"])
    assert not isinstance(out.grad_fn.next_functions[0][0], OpNode)


def test_a_long_chain_does_not_recurse():
    x = ember.ones(1, requires_grad=True)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y * 1.0
    nodes, edges = _parse(make_dot(y).source)
    assert len(nodes) == 3 * sys.getrecursionlimit() + 3   # muls, AccumulateGrad, x, y


def test_without_graphviz_rendering_says_how_to_install(tmp_path, monkeypatch):
    dot = make_dot(_seed(ember)[0])
    monkeypatch.setenv("PATH", str(tmp_path))   # no `dot` program to be found
    assert "MeanBackward0" in dot.source
    with pytest.raises(graphviz.ExecutableNotFound) as info:
        dot.render(outfile=str(tmp_path / "g.svg"))
    assert INSTALL_HINT in str(info.value) and "apt-get install graphviz" in str(info.value)
    with pytest.raises(graphviz.ExecutableNotFound, match="install Graphviz"):
        dot.pipe(format="svg")


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program (CI installs it)")
def test_renders_svg_and_png(tmp_path):
    dot = make_dot(*_mlp(ember))
    svg = dot.render(outfile=str(tmp_path / "g.svg"), cleanup=True)
    text = open(svg).read()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "AddmmBackward0" in text
    png = dot.render(outfile=str(tmp_path / "g.png"), cleanup=True)
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program (CI installs it)")
def test_python_dash_m_ember_viz_draws_the_seed_graph(tmp_path):
    path = tmp_path / "seed.svg"
    proc = subprocess.run([sys.executable, "-m", "ember.viz", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = path.read_text()
    for name in ("MeanBackward0", "MulBackward0", "AddBackward0", "AccumulateGrad"):
        assert name in text
    # the picture committed for the README is this drawing
    committed = open(os.path.join(ROOT, "docs", "seed_graph.svg")).read()
    assert _svg_labels(committed) == _svg_labels(text)


def _svg_labels(svg):
    return sorted(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def test_dot_format_needs_no_graphviz_program(tmp_path, monkeypatch):
    path = tmp_path / "seed.dot"
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))
    proc = subprocess.run([sys.executable, "-m", "ember.viz", str(path)], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    nodes, edges = _parse(path.read_text())
    assert sorted(nodes.values()) == sorted(["\n ()", "MeanBackward0", "MulBackward0",
                                             "MulBackward0", "AddBackward0", "AccumulateGrad",
                                             "x\n (2, 2)"])
    assert len(edges) == 7


def test_import_ember_loads_neither_graphviz_nor_tensorboard():
    code = ("import sys, ember; x = ember.ones(2, requires_grad=True); (x * 2).sum().backward(); "
            "import ember.profiler; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('graphviz', 'tensorboard', 'torchviz', 'google')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_demo_graph_flag_draws_the_model(tmp_path):
    from ember import demo
    path = tmp_path / "model.dot"
    proc = subprocess.run([sys.executable, "-m", "ember.demo", "--graph", str(path)],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, EMBER_DEMO_EPOCHS="1"))
    assert proc.returncode == 0, proc.stderr
    assert f"written to {path}" in proc.stdout
    nodes, edges = _parse(path.read_text())
    labels = sorted(nodes.values())
    model = demo.make_model()
    for name, p in model.named_parameters():
        assert f"{name}\n {tuple(p.shape)}".replace(",)", ")") in labels
    assert labels.count("AddmmBackward0") == 2 and "ReluBackward0" in labels
    assert "NllLossBackward0" in labels and "LogSoftmaxBackward0" in labels


def test_without_the_graphviz_package_the_error_says_which_extra():
    code = ("import sys; sys.modules['graphviz'] = None\n"
            "import ember, ember.viz\n"
            "try:\n    ember.viz.make_dot(ember.ones(2, requires_grad=True).sum())\n"
            "except ImportError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'ember[viz]'" in proc.stdout
