"""CTCLoss, MultiLabelMarginLoss, TripletMarginWithDistanceLoss and binary_cross_entropy
at inputs exactly 0 or 1, against torch: every reduction/option, values and gradients."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F

RNG = np.random.default_rng(3)
REDUCTIONS = ["none", "mean", "sum"]


def _as_ember(v):
    return ember.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v


def compare(t_fn, e_fn, arrays, grad_mask, extra=(), kwargs=None, atol=1e-6):
    """Float arrays become leaves (where grad_mask); extra args are passed to both."""
    kwargs = kwargs or {}
    t_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_mask)]
    e_in = [ember.tensor(a).requires_grad_(g) for a, g in zip(arrays, grad_mask)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = t_fn(*t_in, *extra, **kwargs)
        e_out = e_fn(*e_in, *[_as_ember(v) for v in extra],
                     **{k: _as_ember(v) for k, v in kwargs.items()})
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert str(e_out.dtype) == str(t_out.dtype)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), atol=atol)
    v = RNG.standard_normal(tuple(t_out.shape))
    (t_out * torch.tensor(v, dtype=t_out.dtype)).sum().backward()
    (e_out * ember.tensor(v).to(e_out.dtype)).sum().backward()
    for t, e, g in zip(t_in, e_in, grad_mask):
        if g:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=atol * 10,
                                       rtol=1e-5)


# ---- CTC ----------------------------------------------------------------------------
def _log_probs(t, n, c, dtype="float64"):
    return np.log(RNG.dirichlet(np.ones(c), (t, n))).astype(dtype)


PADDED = torch.tensor([[1, 1, 2], [2, 0, 0], [3, 2, 0]])
CONCAT = torch.tensor([1, 1, 2, 2, 3, 2])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss(reduction, zero_infinity):
    lp = _log_probs(6, 3, 4)
    kw = dict(reduction=reduction, zero_infinity=zero_infinity)
    # Padded and concatenated targets; lengths as lists and as tensors; a sample whose
    # input is too short for its target (infinite loss) and one with an empty target.
    for extra in [(PADDED, [6, 3, 5], [3, 1, 2]),
                  (CONCAT, torch.tensor([6, 3, 5]), torch.tensor([3, 1, 2])),
                  (PADDED, (3, 3, 5), (3, 0, 2))]:
        compare(TF.ctc_loss, F.ctc_loss, [lp], [True], extra, kw)


def test_ctc_loss_blank_float32_unbatched_and_module():
    lp = _log_probs(7, 2, 5, "float32")
    targets = torch.tensor([[0, 1, 1], [3, 2, 0]])
    compare(TF.ctc_loss, F.ctc_loss, [lp], [True], (targets, [7, 6], [3, 2]),
            dict(blank=4), atol=1e-5)
    compare(TF.ctc_loss, F.ctc_loss, [lp[:, 0]], [True],
            (torch.tensor([1, 2]), torch.tensor(7), torch.tensor(2)), dict(reduction="none"),
            atol=1e-5)
    t_m, e_m = torch.nn.CTCLoss(blank=4, zero_infinity=True), nn.CTCLoss(blank=4,
                                                                        zero_infinity=True)
    assert repr(e_m) == repr(t_m) and e_m.blank == 4 and e_m.zero_infinity
    compare(t_m, e_m, [lp], [True], (targets, [7, 2], [3, 2]), atol=1e-5)


def test_ctc_loss_second_derivative_and_errors():
    lp = ember.tensor(_log_probs(4, 2, 3)).requires_grad_(True)
    loss = F.ctc_loss(lp, ember.tensor([[1, 1, 2], [2, 0, 0]]), [4, 2], [3, 1])
    (g,) = ember.autograd.grad(loss, lp, create_graph=True)
    assert not g.requires_grad  # torch: "derivative for aten::_ctc_loss_backward is not implemented"
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 4, "
                                           "but got value 5"):
        F.ctc_loss(lp, ember.tensor([[1, 1, 2], [2, 0, 0]]), [5, 2], [3, 1])
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 4 at "
                                           "dimension 1, but got size 3"):
        F.ctc_loss(lp, ember.tensor([[1, 1, 2], [2, 0, 0]]), [4, 2], [4, 1])


def test_ctc_loss_long_sequence_stays_finite():
    # Log-space recursion: 200 frames of probability ~1/6 underflow a linear-space alpha.
    lp = _log_probs(200, 2, 6)
    targets = torch.from_numpy(RNG.integers(1, 6, (2, 30)))
    compare(TF.ctc_loss, F.ctc_loss, [lp], [True], (targets, [200, 150], [30, 17]),
            atol=1e-6)


# ---- binary_cross_entropy at the boundary -------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_at_zero_and_one(reduction):
    x = np.array([[0.0, 1.0, 0.0, 1.0], [0.5, 1e-30, 0.9, 1.0 - 1e-7]])
    y = np.array([[0.0, 1.0, 1.0, 0.0], [0.3, 1.0, 0.2, 0.0]])
    w = torch.tensor([1.0, 2.0, 3.0, 0.5], dtype=torch.float64)
    for weight in (None, w):
        compare(TF.binary_cross_entropy, F.binary_cross_entropy, [x, y], [True, False],
                (), dict(weight=weight, reduction=reduction), atol=1e-3)
    # torch's loss is finite and its input gradient is 1e12-scaled, never inf or nan.
    xe = ember.tensor(x).requires_grad_(True)
    F.binary_cross_entropy(xe, ember.tensor(y), reduction="sum").backward()
    assert np.isfinite(xe.grad.numpy()).all()


def test_bce_loss_module_float32_boundary_and_target_grad():
    x = np.array([0.0, 1.0, 0.25, 0.75], dtype=np.float32)
    y = np.array([1.0, 0.0, 0.5, 0.5], dtype=np.float32)
    compare(torch.nn.BCELoss(), nn.BCELoss(), [x, y], [True, False], atol=1e-3)
    x = np.array([0.2, 0.7, 0.25, 0.75])
    compare(torch.nn.BCELoss(reduction="none"), nn.BCELoss(reduction="none"), [x, y.astype(
        np.float64)], [True, True])


# ---- MultiLabelMarginLoss -----------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    x = RNG.standard_normal((4, 5))
    # Labels end at the first -1; a later label is ignored; a row with no labels.
    target = torch.tensor([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 2, 3, 4],
                           [2, 2, -1, 0, 0]])
    compare(TF.multilabel_margin_loss, F.multilabel_margin_loss, [x], [True], (target,),
            dict(reduction=reduction))
    compare(TF.multilabel_margin_loss, F.multilabel_margin_loss, [x[0]], [True], (target[0],),
            dict(reduction=reduction))
    compare(torch.nn.MultiLabelMarginLoss(reduction=reduction),
            nn.MultiLabelMarginLoss(reduction=reduction), [x], [True], (target,))


def test_multilabel_margin_loss_shape_error():
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(ember.zeros(2, 3), ember.zeros(2, 4, dtype=ember.int64))


# ---- TripletMarginWithDistanceLoss --------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(reduction, swap):
    a, p, n = (RNG.standard_normal((5, 3)) for _ in range(3))
    kw = dict(swap=swap, reduction=reduction, margin=0.7)
    compare(TF.triplet_margin_with_distance_loss, F.triplet_margin_with_distance_loss,
            [a, p, n], [True] * 3, (), kw)

    def t_cos(u, v):
        return 1 - TF.cosine_similarity(u, v)

    def e_cos(u, v):
        return 1 - F.cosine_similarity(u, v)
    compare(lambda *x: TF.triplet_margin_with_distance_loss(*x, distance_function=t_cos, **kw),
            lambda *x: F.triplet_margin_with_distance_loss(*x, distance_function=e_cos, **kw),
            [a, p, n], [True] * 3)


def test_triplet_margin_with_distance_module():
    t_m, e_m = torch.nn.TripletMarginWithDistanceLoss(margin=0.5), \
        nn.TripletMarginWithDistanceLoss(margin=0.5)
    assert repr(e_m) == repr(t_m)
    assert isinstance(e_m.distance_function, nn.PairwiseDistance)
    a, p, n = (RNG.standard_normal((4, 6)) for _ in range(3))
    compare(t_m, e_m, [a, p, n], [True] * 3)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0 instead"):
        nn.TripletMarginWithDistanceLoss(margin=0)
