"""Loss functions, every reduction mode.  Built on the stable ops (log_softmax,
softplus) so they stay finite where the textbook formula overflows."""
import warnings

from ... import _ops as ops
from ..._ops import loss_ops, nn_ops
from ..._device import array_module
from ..._ops.pointwise import where
from ..._ops.unary import exp, log, relu
from ..._ops.registry import AUTOCAST_FP32, autocast_entry
from ..._dtype import int64
from ..._tensor import Tensor, _make

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, emit_warning=True):
    """The reduction string that the deprecated size_average/reduce arguments mean."""
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _resolve(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    return reduction


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)


@autocast_entry(AUTOCAST_FP32)
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target)
    diff = input - target
    loss = diff * diff
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_entry(AUTOCAST_FP32)
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target)
    loss = ops.abs(input - target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_entry(AUTOCAST_FP32)
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = ops.abs(input - target)
    if beta == 0:
        return _reduce(d, reduction)
    loss = where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, reduction)


@autocast_entry(AUTOCAST_FP32)
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _check_reduction(reduction)
    _warn_size(input, target)
    d = ops.abs(input - target)
    loss = where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _class_dim_shape(input):
    # 1-D input is a single sample (C,); otherwise classes are dim 1.
    return 0 if input.dim() == 1 else 1


def _nll_parts(input, target, weight, ignore_index, reduction):
    """nll_loss reduced by ``reduction``, and the per-target weights (0 where ignored)."""
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype._legacy}")
    cdim = _class_dim_shape(input)
    c = input.shape[cdim]
    if input.dim() == 1:
        if target.dim() != 0:
            raise ValueError(f"Expected input batch_size ({1}) to match target batch_size "
                             f"({target.shape[0]}).")
    elif input.shape[0] != target.shape[0] if target.dim() else True:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.dim() else 0}).")
    t = target._data
    xp = array_module(t)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    dtype = input._data.dtype
    if weight is not None:
        w = xp.where(valid, weight.detach()._data[xp.where(valid, t, 0)], 0).astype(dtype)
    else:
        w = valid.astype(dtype)
    return loss_ops.nll_loss(input, target, cdim, w, reduction), w


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    return _nll_parts(input, target, weight, ignore_index, reduction)[0]


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = _class_dim_shape(input)
    c = input.shape[cdim]
    logp = nn_ops.log_softmax(input, cdim)
    wshape = (c,) + (1,) * (input.dim() - cdim - 1)
    if target.is_floating_point():
        # Class probabilities: mean reduction divides by the number of samples.
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected target size {list(input.shape)}, got "
                               f"{list(target.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        loss = -prod.sum(cdim)
        if reduction == "mean":
            return loss.sum() / (input.numel() // c) if input.numel() else loss.sum() / 0
        return _reduce(loss, reduction)
    if label_smoothing == 0:
        return _nll_parts(logp, target, weight, ignore_index, reduction)[0]
    nll, w = _nll_parts(logp, target, weight, ignore_index, "none")
    valid = target != ignore_index
    lw = logp * weight.reshape(wshape) if weight is not None else logp
    smooth = where(valid, -lw.sum(cdim), 0.0)
    eps = label_smoothing
    if reduction == "none":
        return nll * (1 - eps) + smooth * (eps / c)
    if reduction == "sum":
        return nll.sum() * (1 - eps) + smooth.sum() * (eps / c)
    denom = _make(w).sum()
    return nll.sum() / denom * (1 - eps) + smooth.sum() / denom * (eps / c)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    x = input._data
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    # torch's op: each log clamped at -100, gradients finite at x = 0 and 1.
    loss = loss_ops.binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    loss = nn_ops.binary_cross_entropy_with_logits(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@autocast_entry(AUTOCAST_FP32)
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        safe = where(target > 0, target, 1.0)
        loss = where(target > 0, target * log(safe), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    _check_reduction(reduction)
    return _reduce(loss, reduction)


@autocast_entry(AUTOCAST_FP32)
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _reduce(nn_ops.softplus(-target * input), reduction)


@autocast_entry(AUTOCAST_FP32)
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _reduce(relu(-target * (input1 - input2) + margin), reduction)


@autocast_entry(AUTOCAST_FP32)
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    pos = where(target == 1, input, 0.0)
    neg = where(target == -1, relu(margin - input), 0.0)
    return _reduce(pos + neg, reduction)


@autocast_entry(AUTOCAST_FP32)
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    import math
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        safe = where(target > 1, target, 1.0)
        stirling = safe * log(safe) - safe + log(safe * (2 * math.pi)) * 0.5
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    import math
    _check_reduction(reduction)
    if isinstance(var, (int, float)):
        var = input.detach() * 0 + var
    if var.dim() == input.dim() - 1 and tuple(var.shape) == tuple(input.shape[:-1]):
        var = var.unsqueeze(-1)
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    # torch clamps in place under no_grad: the value changes, the gradient passes through.
    v = var.detach()
    var = var + (where(v < eps, eps, v) - v)
    loss = (log(var) + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    from ..._ops.unary import sqrt
    dot = (x1 * x2).sum(dim)
    n1 = sqrt((x1 * x1).sum(dim))
    n2 = sqrt((x2 * x2).sum(dim))
    n1 = where(n1 > eps, n1, eps)
    n2 = where(n2 > eps, n2, eps)
    return dot / (n1 * n2)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return ops.norm(x1 - x2 + eps, p, -1, keepdim=keepdim)


@autocast_entry(AUTOCAST_FP32)
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    cos = cosine_similarity(input1, input2, dim=-1, eps=1e-12)
    loss = where(target == 1, 1 - cos, where(target == -1, relu(cos - margin), 0.0))
    return _reduce(loss, reduction)


@autocast_entry(AUTOCAST_FP32)
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = ops.minimum(d_neg, d_swap)
    return _reduce(relu(d_pos - d_neg + margin), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * -nn_ops.softplus(-input) + (1 - target) * -nn_ops.softplus(input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)


@autocast_entry(AUTOCAST_FP32)
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    from ..._creation import arange
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.dim() > 1 else input.unsqueeze(0)
    t = target.reshape(-1)
    c = x.shape[1]
    onehot = t.unsqueeze(1) == arange(c, device=x.device).unsqueeze(0)
    picked = where(onehot, x, 0.0).sum(1, keepdim=True)
    z = relu(x - picked + margin)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * where(onehot, weight.unsqueeze(0), 0.0).sum(1, keepdim=True)
    loss = where(onehot, 0.0, z).sum(1) / c
    if input.dim() == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _lengths_tensor(lengths, like):
    from ..._creation import tensor
    if isinstance(lengths, Tensor):
        return lengths
    return tensor(list(lengths) if isinstance(lengths, (list, tuple)) else lengths,
                  dtype=int64, device=like.device)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification: log_probs (T, N, C) or (T, C)."""
    _check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    il = _lengths_tensor(input_lengths, log_probs).reshape(-1)
    tl = _lengths_tensor(target_lengths, log_probs).reshape(-1)
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0)
    t_max, n = log_probs.shape[0], log_probs.shape[1]
    if il.numel() != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.numel() != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    longest = int(il.max()) if n else 0
    if longest > t_max:
        raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value "
                           f"{longest} (while checking arguments for ctc_loss_allocate_outputs)")
    if targets.dim() == 2 and n and int(tl.max()) > targets.shape[1]:
        raise RuntimeError(f"Expected tensor to have size at least {int(tl.max())} at dimension "
                           f"1, but got size {targets.shape[1]} for argument #2 'targets' (while "
                           "checking arguments for ctc_loss_allocate_outputs)")
    loss = loss_ops.ctc_loss_per_sample(log_probs, targets, il, tl, blank, zero_infinity)
    if reduction == "mean":
        return (loss / tl.clamp(min=1).to(loss.dtype)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


@autocast_entry(AUTOCAST_FP32)
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Hinge loss between each labelled class and each other class; labels end at -1."""
    from ..._ops.scan import cummin
    reduction = _resolve(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.dim() > 2 or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    x = input.reshape((1, -1)) if input.dim() < 2 else input
    t = target.reshape(tuple(x.shape))
    c = x.shape[1]
    # A label counts only before the first -1 of its row.
    active = cummin((t >= 0).to(int64), 1)[0] > 0
    labels = where(active, t, -1)
    from ..._creation import arange
    classes = arange(c, device=input.device)
    # is_target[n, k]: class k is one of row n's labels.
    is_target = (labels.unsqueeze(2) == classes.view(1, 1, c)).any(1)
    picked = ops.gather(x, 1, labels.clamp(min=0))            # x[label_j]
    margins = relu(1 - picked.unsqueeze(2) + x.unsqueeze(1))  # [n, j, i]
    mask = active.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = where(mask, margins, 0.0).sum((1, 2)) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, "
                         f"got {margin} instead")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = ops.minimum(d_neg, dist(positive, negative))
    return _reduce(relu(margin + d_pos - d_neg), reduction)


__all__ = ["ctc_loss", "multilabel_margin_loss", "triplet_margin_with_distance_loss",
           "mse_loss", "multi_margin_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "soft_margin_loss", "margin_ranking_loss", "hinge_embedding_loss", "poisson_nll_loss",
           "gaussian_nll_loss", "cosine_similarity", "pairwise_distance",
           "cosine_embedding_loss", "triplet_margin_loss", "multilabel_soft_margin_loss"]
