"""Every nn layer and functional on cuda: built on the CPU, module and inputs moved to cuda,
forward and backward there; outputs, input and parameter gradients and buffers must be on
cuda and equal to the same run on the CPU (which the other tests in tests/nn check against
torch).  "standin": the CPU-backed CuPy stand-in (ember._standin), which fails where nn code
mixes host and device arrays; "cuda": a real GPU through CuPy, skipped where there is none.
Random layers (dropout, rrelu, gumbel_softmax, unseeded fractional pooling) are checked for
shape, device and the values they may take; nn.init, clip_grad and amp have their own tests."""
import copy
import math
import zlib

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.nn import init
from ember.nn.utils import prune
from ember.nn.utils import rnn as ernn
from ember.nn.utils.parametrizations import spectral_norm, weight_norm
from ember.nn.utils.stateless import functional_call
from tests._devices import REAL_GPU, cuda_backend

from .test_layers import LAYERS
from .test_pooling_extra import FRACTIONAL_2D
from .test_recurrent_attention import RECURRENT
from .test_rnn_speed_paths import CONFIGS
from .test_sampling import GRID_CASES, MODES

CPU = ember.device("cpu")
# On the stand-in the device runs the same NumPy code as the CPU; a GPU sums in other orders.
TOL = {"standin": dict(atol=1e-6, rtol=1e-5), "cuda": dict(atol=2e-5, rtol=2e-4)}


@pytest.fixture(params=["standin", "cuda"])
def cuda_kind(request):
    if request.param == "cuda" and not REAL_GPU:
        pytest.skip("no CUDA GPU on this machine")
    with cuda_backend(request.param):
        yield request.param


# ---- inputs: specs drawn from the case's own generator ------------------------------------
class Spec:
    """An input drawn from the case's own generator: ``Spec(lambda rng: array)``."""

    def __init__(self, draw):
        self.draw = draw


def N(*shape, dtype=np.float32):
    return Spec(lambda rng: rng.standard_normal(shape).astype(dtype))


def U(low, high, *shape):
    return Spec(lambda rng: rng.uniform(low, high, shape).astype(np.float32))


def Ix(high, *shape):
    return Spec(lambda rng: rng.integers(0, high, shape))


class Const:
    """A floating input that is moved to the device but does not require grad."""

    def __init__(self, spec):
        self.spec = spec


def _draw(spec, rng):
    if isinstance(spec, Const):
        return Const(_draw(spec.spec, rng))
    return spec.draw(rng) if isinstance(spec, Spec) else spec


def _place(x, dev):
    """A drawn input as a leaf on ``dev``: made on the CPU, then moved as users move data."""
    grad = not isinstance(x, Const)
    a = x.spec if isinstance(x, Const) else x
    if not isinstance(a, np.ndarray):
        return a
    t = ember.tensor(a)
    if dev.type == "cuda":
        t = t.to(dev)
    return t.requires_grad_(grad and a.dtype.kind == "f")


class Case:
    def __init__(self, id, covers, build, tol=1.0):
        self.id, self.covers, self.build, self.tol = id, set(covers), build, tol

    def __repr__(self):
        return self.id


def mod(name, args=(), kwargs=None, inputs=(), id=None, call=None, eval=False, tol=1.0):
    def build():
        m = getattr(nn, name)(*args, **(kwargs or {}))
        return m.eval() if eval else m, list(inputs), call or (lambda m, *xs: m(*xs))
    return Case(id or name, {name}, build, tol)


def fun(name, inputs, kwargs=None, id=None, tol=1.0):
    """F.<name>(*inputs, **kwargs); array kwargs are moved to the device, without grad."""
    kw = dict(kwargs or {})
    arrays = [k for k, v in kw.items() if isinstance(v, (Spec, np.ndarray, Const))]
    n = len(inputs)

    def call(_, *xs):
        return getattr(F, name)(*xs[:n], **{**kw, **dict(zip(arrays, xs[n:]))})
    return Case(id or name, {name}, lambda: (None, list(inputs) +
                                             [Const(kw[k]) for k in arrays], call), tol)


# ---- running a case on two devices ---------------------------------------------------------
def _flat(out):
    """(tensor, expected device type) for every tensor in a result; PackedSequence's
    batch_sizes stay on the CPU as in torch."""
    if isinstance(out, ember.Tensor):
        return [(out, None)]
    if isinstance(out, ernn.PackedSequence):
        return [(out.data, None), (out.batch_sizes, "cpu"),
                *[(t, None) for t in (out.sorted_indices, out.unsorted_indices)
                  if t is not None]]
    if isinstance(out, (tuple, list)):
        return [f for o in out for f in _flat(o)]
    return []


def _run(case, dev):
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    module, specs, call = case.build()
    inputs = [_draw(s, rng) for s in specs]
    cotangents = {}
    results = []
    for d in (CPU, dev):
        ember.manual_seed(0)
        m = None if module is None else copy.deepcopy(module)
        if m is not None and d.type == "cuda":
            m = m.cuda()
        xs = [_place(x, d) for x in inputs]
        outs = _flat(call(m, *xs))
        loss = None
        for k, (o, _) in enumerate(outs):
            if o.requires_grad:
                v = cotangents.setdefault(k, rng.standard_normal(tuple(o.shape)))
                term = (o * ember.tensor(v, dtype=o.dtype, device=o.device)).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        named = [(f"output {k}", o, where) for k, (o, where) in enumerate(outs)]
        named += [(f"grad of input {k}", x.grad, None) for k, x in enumerate(xs)
                  if isinstance(x, ember.Tensor) and x.requires_grad]
        if m is not None:
            named += [(f"grad of {n}", p.grad, None) for n, p in m.named_parameters()]
            named += [(f"parameter {n}", p, None) for n, p in m.named_parameters()]
            named += [(f"buffer {n}", b, None) for n, b in m.named_buffers()]
        results.append(named)
    return results


def _same(cpu, got, device, tol, what):
    if cpu is None:
        assert got is None, f"{what}: None on the CPU, a tensor on cuda"
        return
    assert got is not None, f"{what}: a tensor on the CPU, None on cuda"
    assert got.device == device, f"{what}: on {got.device}, expected {device}"
    assert got.dtype == cpu.dtype and tuple(got.shape) == tuple(cpu.shape), what
    a, b = got.detach().cpu().numpy(), cpu.detach().numpy()
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, err_msg=what, **tol)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def check(case, kind):
    dev = ember.device("cuda", 0)
    cpu_run, dev_run = _run(case, dev)
    assert [n for n, _, _ in cpu_run] == [n for n, _, _ in dev_run]
    tol = {k: v * case.tol for k, v in TOL[kind].items()}
    for (what, c, where), (_, g, _) in zip(cpu_run, dev_run):
        _same(c, g, CPU if where == "cpu" else dev, tol, f"{case.id}: {what}")


# ---- the cases ----------------------------------------------------------------------------
def _layer_cases():
    return [mod(name, args, kwargs, [N(*s) for s in shapes], id=f"{name}-{i}")
            for i, (name, args, kwargs, shapes) in enumerate(LAYERS)]


def _more_layer_cases():
    x3 = N(2, 2, 5, 6, 4)
    pool_idx = lambda kind, d, **kw: (  # noqa: E731
        lambda m, x: m(*getattr(nn, f"MaxPool{d}d")(2, return_indices=True, **kw)(x)))
    return [
        mod("Conv3d", (2, 3, 3), {"padding": 1, "stride": (1, 2, 1)}, [x3]),
        mod("ConvTranspose3d", (2, 3, 2), {"stride": 2}, [N(1, 2, 2, 3, 2)]),
        mod("ConvTranspose1d", (4, 2, 3), {"groups": 2, "padding": 1}, [N(2, 4, 5)]),
        mod("MaxPool3d", (2,), {"stride": 1, "dilation": 2}, [x3]),
        mod("MaxPool2d", (3,), {"stride": 2, "padding": 1, "return_indices": True},
            [N(2, 3, 7, 6)], id="MaxPool2d-indices"),
        mod("AvgPool3d", (2,), {"ceil_mode": True, "count_include_pad": False}, [x3]),
        mod("AdaptiveMaxPool1d", (3,), {"return_indices": True}, [N(2, 3, 8)]),
        mod("AdaptiveMaxPool3d", ((2, None, 3),), {}, [x3]),
        mod("AdaptiveAvgPool3d", ((3, 2, 2),), {}, [x3]),
        mod("MaxUnpool1d", (2,), {}, [N(2, 3, 8)], call=pool_idx("Max", 1)),
        mod("MaxUnpool2d", (2,), {}, [N(2, 3, 6, 4)], call=pool_idx("Max", 2)),
        mod("MaxUnpool3d", (2,), {}, [N(1, 2, 4, 6, 4)], call=pool_idx("Max", 3)),
        mod("LPPool1d", (2, 3), {"stride": 2}, [U(0.1, 2, 2, 3, 9)]),
        mod("LPPool2d", (3.0, 2), {}, [U(0.1, 2, 2, 3, 6, 4)]),
        mod("LPPool3d", (2, 2), {}, [U(0.1, 2, 1, 2, 4, 4, 4)]),
        mod("FractionalMaxPool2d", (2,), {"output_size": (3, 4), "return_indices": True,
                                          "_random_samples": ember.tensor(
                                              np.linspace(0.1, 0.9, 12).reshape(2, 3, 2))},
            [N(2, 3, 7, 9)]),
        mod("FractionalMaxPool3d", ((1, 2, 3),), {"output_ratio": 0.5, "_random_samples":
                                                   ember.tensor(np.full((2, 2, 3), 0.3))},
            [N(2, 2, 6, 7, 9)]),
        mod("BatchNorm3d", (2,), {"momentum": 0.2}, [x3]),
        mod("BatchNorm2d", (3,), {}, [N(2, 3, 4, 4)], eval=True, id="BatchNorm2d-eval"),
        mod("InstanceNorm1d", (3,), {"affine": True}, [N(2, 3, 7)]),
        mod("InstanceNorm3d", (2,), {"track_running_stats": True}, [x3]),
        mod("LocalResponseNorm", (3,), {"alpha": 0.1, "k": 2.0}, [N(2, 5, 4, 3)]),
        mod("Softmax2d", (), {}, [N(2, 3, 4, 4)]),
        mod("UpsamplingBilinear2d", (), {"scale_factor": 2}, [N(1, 2, 3, 4)]),
        mod("UpsamplingNearest2d", (), {"size": (5, 7)}, [N(1, 2, 3, 4)]),
        mod("ConstantPad1d", ((1, 2), 0.5), {}, [N(2, 3)]),
        mod("ConstantPad2d", (1, -1.0), {}, [N(1, 2, 3)]),
        mod("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 2.0), {}, [x3]),
        mod("ZeroPad1d", (2,), {}, [N(2, 3, 4)]),
        mod("CircularPad1d", ((1, 2),), {}, [N(2, 3, 4)]),
        mod("CircularPad2d", (1,), {}, [N(1, 2, 3, 4)]),
        mod("ReflectionPad1d", ((2, 1),), {}, [N(2, 3, 4)]),
        mod("ReplicationPad2d", ((1, 2, 2, 0),), {}, [N(1, 2, 3, 4)]),
        mod("PairwiseDistance", (), {"p": 3.0, "keepdim": True}, [N(4, 5), N(4, 5)]),
        mod("Embedding", (6, 3), {"padding_idx": 2}, [Ix(6, 2, 5)]),
        mod("Embedding", (7, 3), {"max_norm": 1.0, "norm_type": 1.5}, [Ix(7, 9)],
            id="Embedding-max_norm"),
        mod("Embedding", (7, 3), {"scale_grad_by_freq": True, "padding_idx": 0}, [Ix(7, 3, 4)],
            id="Embedding-scale_grad"),
        mod("EmbeddingBag", (7, 3), {"mode": "max"}, [Ix(7, 2, 4)]),
        mod("EmbeddingBag", (7, 3), {"mode": "sum", "padding_idx": 1},
            [Ix(7, 8), np.array([0, 3, 3, 5]), U(0.5, 2, 8)], id="EmbeddingBag-offsets-psw"),
        mod("EmbeddingBag", (7, 3), {"mode": "mean", "include_last_offset": True},
            [Ix(7, 8), np.array([0, 2, 5, 8])], id="EmbeddingBag-mean-last"),
        mod("RReLU", (0.1, 0.3), {}, [N(3, 4)], eval=True),
        mod("Dropout", (0.3,), {}, [N(3, 4)], eval=True),
        mod("NonDynamicallyQuantizableLinear", (4, 2), {}, [N(3, 4)]),
        # nn.utils that rewrite a module on the device it is on.
        Case("prune", {"prune"}, lambda: (nn.Linear(6, 4), [N(3, 6)], lambda m, x: (
            prune.ln_structured(prune.l1_unstructured(m, "weight", amount=0.3), "weight",
                                amount=1, n=2, dim=0)(x)))),
        Case("weight_norm", {"weight_norm"}, lambda: (nn.Conv1d(2, 3, 3), [N(2, 2, 7)],
                                                      lambda m, x: weight_norm(m, dim=1)(x))),
        Case("spectral_norm", {"spectral_norm"}, lambda: (
            spectral_norm(nn.Linear(5, 4), n_power_iterations=3), [N(3, 5)],
            lambda m, x: m(x))),
        Case("functional_call", {"functional_call"}, lambda: (
            nn.Linear(4, 3), [N(3, 4), N(3, 4)], lambda m, x, w: functional_call(
                m, {"weight": w, "bias": m.bias}, (x,)))),
        Case("Sequential", {"Sequential"}, lambda: (
            nn.Sequential(nn.Linear(4, 5), nn.GELU(), nn.LayerNorm(5), nn.Linear(5, 2)),
            [N(3, 4)], lambda m, x: m(x))),
    ]


def _loss_cases():
    p = U(0.05, 0.95, 3, 4)
    cases = []
    for red in ("none", "mean", "sum"):
        kw = {"reduction": red}
        cases += [
            fun("mse_loss", [N(3, 4), N(3, 4)], kw, id=f"mse_loss-{red}"),
            fun("l1_loss", [N(3, 4), N(3, 4)], kw, id=f"l1_loss-{red}"),
            fun("smooth_l1_loss", [N(3, 4), N(3, 4)], {**kw, "beta": 0.5},
                id=f"smooth_l1_loss-{red}"),
            fun("huber_loss", [N(3, 4), N(3, 4)], {**kw, "delta": 0.7}, id=f"huber_loss-{red}"),
            fun("cross_entropy", [N(5, 4), Ix(4, 5)],
                {**kw, "weight": U(0.2, 1.5, 4), "label_smoothing": 0.2},
                id=f"cross_entropy-{red}"),
            fun("nll_loss", [N(2, 3, 4, 2), Ix(3, 2, 4, 2)], kw, id=f"nll_loss-{red}"),
            fun("binary_cross_entropy", [p, U(0, 1, 3, 4)], {**kw, "weight": U(0.5, 1.5, 3, 4)},
                id=f"binary_cross_entropy-{red}"),
            fun("binary_cross_entropy_with_logits", [N(3, 4), U(0, 1, 3, 4)],
                {**kw, "pos_weight": U(0.5, 3, 4)}, id=f"bce_with_logits-{red}"),
            fun("kl_div", [N(3, 5), U(0.1, 1, 3, 5)], kw, id=f"kl_div-{red}"),
            fun("multi_margin_loss", [N(4, 3), Ix(3, 4)],
                {**kw, "p": 2, "margin": 0.5, "weight": U(0.2, 1, 3)},
                id=f"multi_margin_loss-{red}"),
            fun("ctc_loss", [Const(Spec(lambda r: np.log(r.dirichlet(np.ones(4), (6, 3))))),
                             np.array([[1, 1, 2], [2, 0, 0], [3, 2, 0]]), [6, 3, 5], [3, 1, 2]],
                {**kw, "zero_infinity": True}, id=f"ctc_loss-{red}"),
        ]
    x, t = N(5, 4), Ix(4, 5)
    ign = np.array([0, -100, 3, 1, 2])
    return cases + [
        fun("cross_entropy", [x, ign], {"weight": U(0.2, 1.5, 4)}, id="cross_entropy-ignore"),
        fun("cross_entropy", [x, t], {"ignore_index": 3}, id="cross_entropy-ignore_index"),
        fun("cross_entropy", [x, U(0, 1, 5, 4)], {"label_smoothing": 0.1},
            id="cross_entropy-probs"),
        fun("cross_entropy", [N(4), np.array(2)], id="cross_entropy-unbatched"),
        fun("nll_loss", [x, t], {"weight": U(0.2, 1.5, 4)}, id="nll_loss-weight"),
        fun("soft_margin_loss", [N(3, 4), np.sign(np.arange(12.0) - 5.5).reshape(3, 4)
                                 .astype(np.float32)]),
        fun("multilabel_soft_margin_loss", [N(3, 4), Ix(2, 3, 4)]),
        fun("multilabel_margin_loss", [N(3, 5), np.array([[3, 0, -1, 1, 2], [1, 2, 4, -1, 0],
                                                          [0, 1, 2, 3, 4]])]),
        fun("kl_div", [N(3, 5), N(3, 5)], {"reduction": "batchmean", "log_target": True},
            id="kl_div-log_target"),
        fun("margin_ranking_loss", [N(4), N(4), np.array([1.0, -1, 1, -1], np.float32)],
            {"margin": 0.2}),
        fun("hinge_embedding_loss", [N(4, 3), np.sign(np.arange(12.0) - 5.5).reshape(4, 3)
                                     .astype(np.float32)], {"margin": 0.5}),
        fun("cosine_embedding_loss", [N(4, 3), N(4, 3), np.array([1.0, -1, 1, -1], np.float32)],
            {"margin": 0.1}),
        fun("poisson_nll_loss", [N(4, 3), U(0, 3, 4, 3)]),
        fun("poisson_nll_loss", [U(0.1, 2, 4, 3), U(0, 3, 4, 3)], {"log_input": False,
                                                                   "full": True},
            id="poisson_nll_loss-full"),
        fun("gaussian_nll_loss", [N(4, 3), N(4, 3), U(0.1, 1, 4, 3)], {"full": True}),
        fun("triplet_margin_loss", [N(4, 3), N(4, 3), N(4, 3)], {"swap": True}),
        fun("triplet_margin_with_distance_loss", [N(4, 3), N(4, 3), N(4, 3)],
            {"distance_function": lambda a, b: F.pairwise_distance(a, b, p=1.0)}),
        mod("CrossEntropyLoss", (), {"weight": ember.tensor([0.2, 1.0, 0.5])},
            [N(4, 3), Ix(3, 4)], id="CrossEntropyLoss-weight"),
        mod("CTCLoss", (), {"blank": 1}, [Const(Spec(lambda r: np.log(
            r.dirichlet(np.ones(4), (5, 2))).astype(np.float32))),
                                          np.array([2, 3, 2, 0, 3]), np.array([5, 4]),
                                          np.array([3, 2])]),
    ] + [mod(name, (), {}, [p, U(0, 1, 3, 4)]) for name in
         ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
          "KLDivLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss")] + [
        mod("NLLLoss", (), {}, [N(4, 3), Ix(3, 4)]),
        mod("MultiMarginLoss", (), {}, [N(4, 3), Ix(3, 4)]),
        mod("MultiLabelMarginLoss", (), {}, [N(2, 3), np.array([[2, -1, 0], [0, 1, 2]])]),
        mod("GaussianNLLLoss", (), {}, [N(4, 3), N(4, 3), U(0.1, 1, 4, 3)]),
        mod("MarginRankingLoss", (), {}, [N(4), N(4), np.array([1.0, -1, 1, -1], np.float32)]),
        mod("HingeEmbeddingLoss", (), {}, [N(4), np.array([1.0, -1, 1, -1], np.float32)]),
        mod("CosineEmbeddingLoss", (), {}, [N(4, 3), N(4, 3),
                                            np.array([1.0, -1, 1, -1], np.float32)]),
        mod("TripletMarginLoss", (), {"p": 1.0}, [N(4, 3), N(4, 3), N(4, 3)]),
        mod("TripletMarginWithDistanceLoss", (), {}, [N(4, 3), N(4, 3), N(4, 3)]),
    ]


def _recurrent_step(m, x, *state):
    return m(x, tuple(state) if len(state) == 2 else state[0]) if state else m(x)


def _recurrent_cases():
    cases = []
    for i, (name, kw) in enumerate(RECURRENT + CONFIGS):
        x = N(2, 5, 4) if kw.get("batch_first") else N(5, 2, 4)
        d = (2 if kw.get("bidirectional") else 1) * kw.get("num_layers", 1)
        state = [N(d, 2, kw.get("proj_size") or 5)] + ([N(d, 2, 5)] if name == "LSTM" else [])
        cases.append(mod(name, (4, 5), kw, [x], id=f"{name}-{i}", call=_recurrent_step))
        cases.append(mod(name, (4, 5), kw, [x, *state], id=f"{name}-{i}-h0",
                         call=_recurrent_step))
    cases.append(mod("GRU", (4, 3), {}, [N(5, 4)], id="GRU-unbatched"))
    for name in ("LSTM", "GRU"):  # h_n (and c_n) unused: their gradients are zeros on cuda
        cases.append(mod(name, (4, 3), {"batch_first": True}, [N(2, 5, 4)],
                         id=f"{name}-output-only", call=lambda m, x: m(x)[0]))
    cases.append(mod("LSTM", (4, 3), {"num_layers": 2, "dropout": 0.5}, [N(5, 2, 4)],
                     eval=True, id="LSTM-dropout-eval"))
    for name in ("RNNCell", "LSTMCell", "GRUCell"):
        state = [N(2, 3)] * (2 if name == "LSTMCell" else 1)
        cases.append(mod(name, (4, 3), {}, [N(2, 4), *state], call=_recurrent_step))

    def packed(m, *seqs):
        out, hidden = m(ernn.pack_sequence(list(seqs), enforce_sorted=False))
        padded, lengths = ernn.pad_packed_sequence(out, batch_first=True)
        assert lengths.device.type == "cpu"  # as torch, whatever the data's device
        return out, hidden, padded

    def padded(m, x, lengths):
        packed_in = ernn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, hidden = m(packed_in)
        return ernn.pad_packed_sequence(out, total_length=6)[0], hidden

    seqs = [N(n, 4) for n in (3, 6, 1, 4)]
    for name, kw in [("LSTM", {"bidirectional": True, "proj_size": 2}),
                     ("GRU", {"num_layers": 2}), ("RNN", {"nonlinearity": "relu"})]:
        cases.append(mod(name, (4, 3), kw, seqs, id=f"{name}-packed", call=packed))
    cases.append(mod("LSTM", (4, 3), {}, [N(6, 3, 4), np.array([6, 2, 4])],
                     id="LSTM-pack_padded", call=padded))
    cases.append(Case("pad_sequence", {"pad_sequence"}, lambda: (
        None, seqs, lambda _, *s: ernn.pad_sequence(list(s), padding_value=-1.0))))
    return cases


def _attention_cases():
    allowed = np.tril(np.ones((5, 5), bool)) | (np.arange(25).reshape(5, 5) % 3 == 0)
    q = [N(2, 3, 5, 4) for _ in range(3)]
    sdpa = [fun("scaled_dot_product_attention", q, kw, id=f"sdpa-{i}") for i, kw in enumerate(
        [{}, {"is_causal": True}, {"scale": 0.3}, {"attn_mask": allowed},
         {"attn_mask": N(5, 5)}])]
    sdpa.append(fun("scaled_dot_product_attention", [N(2, 3, 4), N(2, 5, 4), N(2, 5, 4)],
                    {"is_causal": True}, id="sdpa-rect-causal"))
    kpm = np.array([[False, False, True, False, True], [False, True, True, False, False]])
    causal = nn.Transformer.generate_square_subsequent_mask(5).numpy()
    mha = []
    for i, kw in enumerate([{}, {"batch_first": True}, {"kdim": 3, "vdim": 5},
                            {"add_bias_kv": True}, {"add_zero_attn": True, "bias": False}]):
        k, v = N(5, 2, kw.get("kdim", 4)), N(5, 2, kw.get("vdim", 4))
        mha.append(mod("MultiheadAttention", (4, 2), kw, [N(5, 2, 4), k, v], id=f"MHA-{i}"))
    masks = lambda m, x, kp, am: m(x, x, x, key_padding_mask=kp, attn_mask=am,  # noqa: E731
                                   average_attn_weights=False)
    mha.append(mod("MultiheadAttention", (4, 2), {}, [N(5, 2, 4), kpm, Const(causal)],
                   id="MHA-masks", call=masks))
    mha.append(mod("MultiheadAttention", (16, 4), {}, [N(5, 3, 16)], id="MHA-self",
                   call=lambda m, x: m(x, x, x, need_weights=False)))
    mha.append(Case("multi_head_attention_forward", {"multi_head_attention_forward"}, lambda: (
        nn.MultiheadAttention(4, 2), [N(5, 2, 4)], lambda m, x: F.multi_head_attention_forward(
            x, x, x, 4, 2, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0,
            m.out_proj.weight, m.out_proj.bias))))
    tr = []
    for norm_first in (False, True):
        tr.append(mod("TransformerEncoderLayer", (4, 2, 8), {
            "dropout": 0.0, "norm_first": norm_first, "activation": "gelu"}, [N(3, 2, 4)],
            id=f"TransformerEncoderLayer-{norm_first}", tol=5))
        tr.append(mod("TransformerDecoderLayer", (4, 2, 8), {
            "dropout": 0.0, "norm_first": norm_first, "batch_first": True},
            [N(2, 3, 4), N(2, 5, 4)], id=f"TransformerDecoderLayer-{norm_first}", tol=5))
    tr.append(Case("TransformerEncoder", {"TransformerEncoder"}, lambda: (
        nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0), 2,
                              norm=nn.LayerNorm(4)), [N(3, 2, 4), kpm[:, :3]],
        lambda m, x, kp: m(x, src_key_padding_mask=kp)), tol=5))
    tr.append(Case("TransformerDecoder", {"TransformerDecoder"}, lambda: (
        nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0), 2),
        [N(3, 2, 4), N(5, 2, 4)],
        lambda m, x, mem: m(x, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(
            3, device=x.device), tgt_is_causal=True)), tol=5))
    tr.append(mod("Transformer", (4, 2, 1, 1, 8), {"dropout": 0.0}, [N(3, 2, 4), N(2, 2, 4)],
                  tol=5))
    return sdpa + mha + tr


def _functional_cases():
    x = N(2, 3, 5, 6)
    cases = []
    for mode, d in MODES:
        shape = (2, 3) + (5, 6, 4)[:d]
        for i, geo in enumerate([dict(size=(7, 3, 9)[:d]), dict(scale_factor=1.7),
                                 dict(scale_factor=0.6, recompute_scale_factor=True)]):
            corners = [None] if mode.startswith("nearest") or mode == "area" else [True, False]
            for ac in corners:
                cases.append(fun("interpolate", [N(*shape)], {"mode": mode, "align_corners": ac,
                                                              **geo},
                                 id=f"interpolate-{mode}-{d}d-{i}-{ac}"))
    cases.append(fun("interpolate", [N(2, 3, 9, 8)], {"size": (4, 3), "mode": "bilinear",
                                                      "antialias": True},
                     id="interpolate-antialias"))
    for d, mode, pad, ac in GRID_CASES:
        cases.append(fun("grid_sample", [N(*(2, 3) + (4, 5, 6)[:d]),
                                         U(-2.6, 2.6, *(2,) + (3, 4, 2)[:d] + (d,))],
                         {"mode": mode, "padding_mode": pad, "align_corners": ac},
                         id=f"grid_sample-{d}d-{mode}-{pad}-{ac}"))
    for size in ((2, 3, 4, 5), (2, 3, 4, 5, 6)):
        cases.append(fun("affine_grid", [N(2, len(size) - 2, len(size) - 1), list(size)],
                         {"align_corners": False}, id=f"affine_grid-{len(size)}"))
    for i, kw in enumerate(FRACTIONAL_2D):
        cases.append(fun("fractional_max_pool2d", [N(2, 3, 7, 9)],
                         {**kw, "return_indices": True, "_random_samples": U(0, 1, 2, 3, 2)},
                         id=f"fractional_max_pool2d-{i}"))
    cases.append(fun("fractional_max_pool3d", [N(2, 2, 6, 7, 9)],
                     {"kernel_size": 2, "output_size": (3, 3, 3),
                      "_random_samples": U(0, 1, 2, 2, 3)}))
    w = N(4, 3, 3, 3)
    for mode in ("constant", "reflect", "replicate", "circular"):
        cases.append(fun("pad", [x, (1, 2, 2, 0)], {"mode": mode}, id=f"pad-{mode}"))
    cases += [
        fun("conv1d", [N(2, 3, 9), N(4, 3, 3), N(4)], {"stride": 2, "padding": "valid"}),
        fun("conv2d", [x, w], {"padding": "same", "dilation": 2}),
        fun("conv3d", [N(1, 2, 4, 5, 4), N(4, 1, 2, 2, 2)], {"groups": 2}),
        fun("conv_transpose1d", [N(2, 3, 5), N(3, 2, 3)], {"stride": 2, "output_padding": 1}),
        fun("conv_transpose2d", [x, N(3, 2, 3, 3)], {"padding": 1, "dilation": 2}),
        fun("conv_transpose3d", [N(1, 2, 3, 3, 2), N(2, 2, 2, 2, 2)], {"stride": (1, 2, 2)}),
        fun("linear", [N(3, 4), N(5, 4), N(5)]),
        fun("bilinear", [N(3, 4), N(3, 2), N(5, 4, 2), N(5)]),
        fun("max_pool1d", [N(2, 3, 9)], {"kernel_size": 3, "ceil_mode": True,
                                          "return_indices": True}),
        fun("max_pool2d", [x], {"kernel_size": 2, "dilation": 2}),
        fun("max_pool3d", [N(1, 2, 4, 5, 6)], {"kernel_size": 2, "return_indices": True}),
        fun("avg_pool1d", [N(2, 3, 9)], {"kernel_size": 3, "stride": 2}),
        fun("avg_pool2d", [x], {"kernel_size": 3, "padding": 1, "divisor_override": 2}),
        fun("avg_pool3d", [N(1, 2, 4, 5, 6)], {"kernel_size": 2}),
        fun("adaptive_avg_pool1d", [N(2, 3, 9)], {"output_size": 4}),
        fun("adaptive_avg_pool2d", [x], {"output_size": (2, 4)}),
        fun("adaptive_avg_pool3d", [N(1, 2, 4, 5, 6)], {"output_size": 3}),
        fun("adaptive_max_pool1d", [N(2, 3, 9)], {"output_size": 4}),
        fun("adaptive_max_pool2d", [x], {"output_size": (2, 4), "return_indices": True}),
        fun("adaptive_max_pool3d", [N(1, 2, 4, 5, 6)], {"output_size": (2, 3, 3)}),
        fun("max_unpool1d", [N(2, 3, 4),
                             Spec(lambda r: r.integers(0, 2, (2, 3, 4)) + 2 * np.arange(4))],
            {"kernel_size": 2}),
        fun("max_unpool2d", [N(1, 2, 2, 3), np.array([[[[0, 3, 5], [14, 9, 23]]] * 2])],
            {"kernel_size": 2, "output_size": (4, 6)}),
        fun("max_unpool3d", [N(1, 1, 1, 2, 1), np.array([[[[[1], [15]]]]])],
            {"kernel_size": 2, "stride": (2, 2, 1)}),
        fun("lp_pool1d", [U(0.1, 2, 2, 3, 9)], {"norm_type": 3.0, "kernel_size": 2}),
        fun("lp_pool2d", [U(0.1, 2, 2, 3, 6, 4)], {"norm_type": 2, "kernel_size": 2}),
        fun("lp_pool3d", [U(0.1, 2, 1, 2, 4, 4, 4)], {"norm_type": 1.5, "kernel_size": 2}),
        fun("unfold", [x], {"kernel_size": (2, 3), "dilation": 1, "padding": 1, "stride": 2}),
        fun("fold", [N(2, 12, 12)], {"output_size": (4, 5), "kernel_size": 2}),
        fun("pixel_shuffle", [N(1, 8, 2, 3)], {"upscale_factor": 2}),
        fun("pixel_unshuffle", [N(1, 2, 4, 6)], {"downscale_factor": 2}),
        fun("batch_norm", [x, Const(N(3)), Const(U(0.5, 2, 3)), N(3), N(3)],
            {"training": True, "momentum": 0.2}),
        fun("batch_norm", [x, Const(N(3)), Const(U(0.5, 2, 3))], id="batch_norm-eval"),
        fun("instance_norm", [x], {"weight": N(3), "bias": N(3)}),
        fun("layer_norm", [x, (5, 6), N(5, 6), N(5, 6)]),
        fun("group_norm", [N(2, 4, 3, 3), 2, N(4), N(4)]),
        fun("rms_norm", [x, (6,), N(6)], {"eps": 1e-3}),
        fun("local_response_norm", [N(2, 5, 4, 3), 3]),
        fun("normalize", [x], {"p": 1.5, "dim": 2}),
        fun("cosine_similarity", [N(3, 4), N(1, 4)], {"dim": 1}),
        fun("pairwise_distance", [N(3, 4), N(3, 4)], {"p": 1.0}),
        fun("embedding", [Ix(6, 2, 5), N(6, 3)], {"padding_idx": 1}),
        fun("embedding", [Ix(6, 7), Const(N(6, 3))], {"max_norm": 0.5}, id="embedding-max_norm"),
        fun("embedding_bag", [Ix(6, 8), N(6, 3), np.array([0, 3, 3, 5])],
            {"mode": "mean"}),
        fun("one_hot", [Ix(5, 2, 3)], {"num_classes": 6}),
        fun("prelu", [x, N(3)]),
        fun("glu", [N(3, 4)], {"dim": 1}),
        fun("softmax", [x], {"dim": 1}), fun("log_softmax", [x], {"dim": -1}),
        fun("softmin", [x], {"dim": 0, "dtype": ember.float64}),
        fun("threshold", [x, 0.1, 2.0]), fun("hardtanh", [x, -0.5, 0.5]),
        fun("leaky_relu", [x, 0.2]), fun("rrelu", [x], {"training": False}),
    ]
    for name in ("relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid",
                 "tanh", "hardsigmoid", "hardswish", "hardshrink", "softshrink", "softplus",
                 "softsign", "tanhshrink", "logsigmoid"):
        cases.append(fun(name, [x]))
    inplace = lambda name: lambda _, x: getattr(F, name)(x * 1.0)  # noqa: E731
    for name in ("relu_", "elu_", "selu_", "celu_", "leaky_relu_", "hardtanh_", "rrelu_"):
        cases.append(Case(name, {name}, lambda name=name: (
            None, [N(3, 4)], inplace(name) if name != "rrelu_" else
            (lambda _, x: F.rrelu_(x * 1.0, training=False)))))
    cases.append(Case("threshold_", {"threshold_"}, lambda: (
        None, [N(3, 4)], lambda _, x: F.threshold_(x * 1.0, 0.2, -1.0))))
    for name in ("upsample", "upsample_bilinear", "upsample_nearest"):
        cases.append(Case(name, {name}, lambda name=name: (
            None, [N(1, 2, 3, 4)], lambda _, x: getattr(F, name)(x, scale_factor=2)), 1.0))
    return cases


CASES = (_layer_cases() + _more_layer_cases() + _loss_cases() + _recurrent_cases()
         + _attention_cases() + _functional_cases())


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_on_cuda_matches_cpu(cuda_kind, case):
    check(case, cuda_kind)


# ---- random layers: shape, device, and the values they may take ---------------------------
def test_dropout_family_on_cuda(cuda_kind):
    ember.manual_seed(0)
    x = ember.ones(40, 50, 3, 3).cuda()
    for layer, scale, per_channel in [(nn.Dropout(0.25), 1 / 0.75, False),
                                      (nn.Dropout1d(0.5), 2.0, True),
                                      (nn.Dropout2d(0.5), 2.0, True),
                                      (nn.Dropout3d(0.5), 2.0, True)]:
        inp = x.reshape(40, 50, 9)[:, :, :3] if isinstance(layer, nn.Dropout1d) else x
        if isinstance(layer, nn.Dropout3d):
            inp = x.reshape(40, 50, 3, 3, 1)
        leaf = inp.detach().requires_grad_()
        y = layer.cuda()(leaf)
        assert y.device == x.device and y.shape == inp.shape
        d = y.detach().cpu().numpy()
        assert np.isin(d, [0.0, np.float32(scale)]).all()
        assert 0.1 < (d == 0).mean() < 0.6
        if per_channel:
            planes = d.reshape(40, 50, -1)
            assert ((planes == 0).all(-1) | (planes != 0).all(-1)).all()
        y.sum().backward()
        assert leaf.grad.device == x.device
        np.testing.assert_array_equal(leaf.grad.cpu().numpy(), d)
    for layer in (nn.AlphaDropout(0.2), nn.FeatureAlphaDropout(0.2)):
        y = layer(ember.randn(2000, 4, 3, device="cuda"))
        assert y.device == x.device
        assert abs(float(y.mean())) < 0.1 and abs(float(y.std()) - 1) < 0.1
    for fn, shape in [(F.dropout, (2, 3)), (F.alpha_dropout, (2, 3)),
                      (F.feature_alpha_dropout, (2, 3, 4)), (F.dropout1d, (2, 3, 4)),
                      (F.dropout2d, (2, 3, 4, 4)), (F.dropout3d, (2, 3, 4, 4, 2))]:
        t = ember.randn(*shape, device="cuda")
        assert (fn(t, 0.3, training=False) == t).all()
        assert fn(t, 0.3, training=True).device == t.device


def test_random_functionals_on_cuda(cuda_kind):
    ember.manual_seed(0)
    x = ember.randn(4, 200, device="cuda", requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    d, xd = y.detach().cpu().numpy(), x.detach().cpu().numpy()
    neg = xd < 0
    assert y.device == x.device and (d[~neg] == xd[~neg]).all()
    assert ((d[neg] / xd[neg] >= 0.1 - 1e-6) & (d[neg] / xd[neg] <= 0.3 + 1e-6)).all()
    m = nn.RReLU().cuda()
    assert m(x).device == x.device
    y.sum().backward()
    assert x.grad.device == x.device
    q = ember.randn(2, 3, 5, 4, device="cuda", requires_grad=True)
    y = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, is_causal=True)
    assert y.device == q.device and y.shape == q.shape
    mha = nn.MultiheadAttention(4, 2, dropout=0.5).cuda()
    out, w = mha(q[0], q[0], q[0], average_attn_weights=False)
    assert out.device == w.device == q.device
    w = w.detach().cpu().numpy()  # dropped weights are 0, the kept ones scaled by 2
    assert (w == 0).any() and (w.sum(-1) <= 2 + 1e-5).all()
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.3).cuda()
    (layer(q[0]).sum() + out.sum() + y.sum()).backward()
    assert q.grad.device == q.device
    assert all(p.grad.device == q.device for p in layer.parameters())
    g = F.gumbel_softmax(ember.randn(5, 7, device="cuda"), tau=0.5, hard=True)
    assert g.device == x.device and (g.sum(-1) == 1).all() and ((g == 0) | (g == 1)).all()
    s = F.gumbel_softmax(ember.randn(5, 7, device="cuda"))
    assert s.device == x.device and np.allclose(s.sum(-1).cpu().numpy(), 1, atol=1e-6)
    for pool, inp in [(nn.FractionalMaxPool2d(2, output_size=3, return_indices=True),
                       ember.randn(2, 3, 7, 7, device="cuda")),
                      (nn.FractionalMaxPool3d(2, output_ratio=0.5, return_indices=True),
                       ember.randn(2, 2, 6, 6, 6, device="cuda"))]:
        out, idx = pool(inp)
        assert out.device == idx.device == inp.device
        flat = inp.reshape(*inp.shape[:2], -1)
        np.testing.assert_array_equal(
            flat.gather(2, idx.reshape(*idx.shape[:2], -1)).cpu().numpy(),
            out.reshape(*out.shape[:2], -1).cpu().numpy())


# ---- nn.init, clip_grad, amp --------------------------------------------------------------
def test_init_on_cuda_parameters(cuda_kind):
    ember.manual_seed(0)
    p = nn.Parameter(ember.empty(300, 200, device="cuda"))
    where = p.device

    def values(fn, *args, **kwargs):
        out = fn(p, *args, **kwargs)
        assert out is p and p.device == where and p.dtype == ember.float32 and p.grad_fn is None
        return p.detach().cpu().numpy().astype(np.float64)

    fan_in, fan_out = 200, 300
    d = values(init.uniform_, -0.5, 1.5)
    assert d.min() >= -0.5 and d.max() < 1.5 and abs(d.mean() - 0.5) < 0.02
    d = values(init.normal_, 2.0, 0.5)
    assert abs(d.mean() - 2.0) < 0.01 and abs(d.std() - 0.5) < 0.01
    d = values(init.trunc_normal_, 0.5, 1.0, -0.5, 1.0)
    assert d.min() >= -0.5 and d.max() <= 1.0
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    d = values(init.xavier_uniform_, gain=2.0)
    assert bound * 0.95 < np.abs(d).max() <= bound
    d = values(init.xavier_normal_)
    assert abs(d.std() - math.sqrt(2.0 / (fan_in + fan_out))) < 0.05 * d.std()
    d = values(init.kaiming_uniform_, a=0, mode="fan_out", nonlinearity="relu")
    assert np.abs(d).max() <= math.sqrt(6.0 / fan_out)
    d = values(init.kaiming_normal_, nonlinearity="leaky_relu", a=0.1)
    std = math.sqrt(2.0 / 1.01) / math.sqrt(fan_in)
    assert abs(d.std() - std) < 0.05 * std
    d = values(init.orthogonal_, gain=2.0)
    np.testing.assert_allclose(d.T @ d, 4 * np.eye(200), atol=1e-4)
    d = values(init.sparse_, 0.5)
    assert ((d == 0).sum(0) == 150).all()
    assert (values(init.constant_, 0.3) == np.float32(0.3)).all()
    assert not values(init.zeros_).any() and (values(init.ones_) == 1).all()
    assert (values(init.eye_) == np.eye(300, 200)).all()
    conv = nn.Parameter(ember.empty(6, 3, 3, 3, device="cuda"))
    init.dirac_(conv, 2)
    cpu = ember.empty(6, 3, 3, 3)
    init.dirac_(cpu, 2)
    assert conv.device == where and (conv.detach().cpu().numpy() == cpu.numpy()).all()
    # Layers' reset_parameters after the move draw on the device.
    for layer in (nn.Linear(5, 4), nn.Conv2d(2, 3, 3), nn.LSTM(3, 4), nn.Embedding(5, 2, 1),
                  nn.MultiheadAttention(4, 2), nn.BatchNorm1d(3), nn.LayerNorm(3)):
        layer.cuda()
        for m in layer.modules():
            if hasattr(m, "reset_parameters") and not isinstance(m, nn.MultiheadAttention):
                m.reset_parameters()
        assert all(t.device == where for t in layer.state_dict().values())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_on_cuda(cuda_kind, norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,), (2, 2, 2)]]
    runs = []
    for dev in ("cpu", "cuda"):
        ps = [nn.Parameter(ember.zeros(g.shape, device=dev)) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = ember.tensor(g).to(dev)
        total = nn.utils.clip_grad_norm_(ps, 1.5, norm_type=norm_type)
        runs.append((total, [p.grad for p in ps]))
    (cpu_total, cpu_grads), (total, dev_grads) = runs
    tol = TOL[cuda_kind]
    _same(cpu_total, total, ember.device("cuda", 0), tol, "total norm")
    for c, g in zip(cpu_grads, dev_grads):
        _same(c, g, ember.device("cuda", 0), tol, "clipped grad")
    ps = [nn.Parameter(ember.zeros(3, device="cuda")) for _ in range(2)]
    for p, g in zip(ps, ([-3.0, 0.5, 2.0], [1.0, -0.2, 7.0])):
        p.grad = ember.tensor(g, device="cuda")
    nn.utils.clip_grad_value_(ps, 1.0)
    assert ps[0].grad.device == ps[0].device
    assert ps[0].grad.cpu().tolist() == [-1.0, 0.5, 1.0]
    ps[1].grad = ember.tensor([1.0, float("inf"), 0.0], device="cuda")
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients"):
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    m = nn.Linear(3, 2).cuda()
    vec = nn.utils.parameters_to_vector(m.parameters())
    assert vec.device == m.weight.device and tuple(vec.shape) == (8,)
    nn.utils.vector_to_parameters(ember.arange(8.0, device="cuda"), m.parameters())
    assert m.weight.device == vec.device and m.bias.cpu().tolist() == [6.0, 7.0]


def test_autocast_and_grad_scaler_on_cuda(cuda_kind):
    """A training step under autocast('cuda') with a GradScaler, against the same step with
    the same float16 casts on the CPU: the matmuls run in float16, the loss in float32."""
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    x = ember.randn(32, 8)
    y = ember.randint(0, 4, (32,))
    results = []
    for dev in ("cpu", "cuda"):
        m = copy.deepcopy(model).to(dev)
        opt = ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        scaler = ember.amp.GradScaler(dev, init_scale=1024.0, growth_interval=2)
        xd, yd = x.to(dev), y.to(dev)
        for _ in range(3):
            opt.zero_grad()
            with ember.autocast(dev, dtype=ember.float16):
                out = m(xd)
                loss = F.cross_entropy(out, yd)
            assert out.dtype == ember.float16 and loss.dtype == ember.float32
            assert out.device == loss.device == xd.device
            scaler.scale(loss).backward()
            assert scaler._scale.device == xd.device  # as torch: where the loss is
            assert all(p.grad.device == xd.device and p.grad.dtype == ember.float32
                       for p in m.parameters())
            scaler.step(opt)
            scaler.update()
        results.append((scaler.get_scale(), loss, list(m.parameters())))
    (cpu_scale, cpu_loss, cpu_params), (scale, loss, params) = results
    assert scale == cpu_scale == 2048.0
    tol = dict(atol=1e-3, rtol=1e-3)  # float16 matmuls: the GPU accumulates in other orders
    _same(cpu_loss, loss, ember.device("cuda", 0), tol, "loss")
    for c, p in zip(cpu_params, params):
        _same(c, p, ember.device("cuda", 0), tol, "parameter after three steps")
    # An overflow on the device skips the step and halves the scale.
    before = [p.detach().clone() for p in params]
    scaler = ember.amp.GradScaler("cuda", init_scale=2.0 ** 16)
    opt = ember.optim.SGD(params, lr=0.1)
    opt.zero_grad()
    with ember.autocast("cuda"):
        loss = (m(x.cuda()).float() * 1e30).sum()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2.0 ** 15
    assert all((b == p).all() for b, p in zip(before, params))
    # An explicit new scale (a float, a CPU tensor) and a reloaded state stay on the device.
    for new in (4.0, ember.tensor(2.0)):
        scaler.update(new)
        assert scaler._scale.device == params[0].device and scaler.get_scale() == float(new)
    scaler.load_state_dict(scaler.state_dict())
    assert scaler._scale.device == scaler._growth_tracker.device == params[0].device


# ---- coverage: every functional and every layer class has a case --------------------------
_CONTAINERS = {"Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList",
               "DataParallel", "RNNBase", "RNNCellBase"}
_RANDOM = {"Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
           "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout", "gumbel_softmax"}


def test_every_layer_and_functional_has_a_case():
    covered = set().union(*(c.covers for c in CASES)) | _RANDOM
    layers = {n for n in dir(nn) if isinstance(getattr(nn, n), type)
              and issubclass(getattr(nn, n), nn.Module) and not n.startswith("Lazy")}
    functionals = {n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))}
    missing = sorted((layers - _CONTAINERS | functionals) - covered)
    assert not missing, f"no cuda case for {missing}"
