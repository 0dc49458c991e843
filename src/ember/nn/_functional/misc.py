"""Linear maps, dropout, embeddings, one_hot."""
import math
import warnings

import numpy as np

from ..._device import array_module
from ... import _ops as ops
from ..._ops import nn_ops
from ..._ops.registry import AUTOCAST_LOWER, autocast_entry
from ..._tensor import _host, _make
from ...autograd import grad_mode


@autocast_entry(AUTOCAST_LOWER)
def linear(input, weight, bias=None):
    if input.shape[-1] != weight.shape[-1]:
        rows = int(np.prod(input.shape[:-1])) if input.dim() > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} "
                           f"and {weight.shape[-1]}x{weight.shape[0]})")
    if bias is not None and weight.dim() == 2:
        # torch's fused paths: one addmm node for a matrix, and for a contiguous 3-D input
        # (then viewed back).
        if input.dim() == 2:
            return ops.addmm(bias, input, weight.t())
        if input.dim() == 3 and input.is_contiguous():
            out = ops.addmm(bias, input.flatten(0, 1), weight.t())
            return out.view(input.shape[0], input.shape[1], -1)
    out = input @ weight.t() if weight.dim() == 2 else input @ weight
    return out + bias if bias is not None else out


def bilinear(input1, input2, weight, bias=None):
    # y[n, o] = x1[n] . W[o] . x2[n], as one batched matmul.
    t = input1.unsqueeze(-2).unsqueeze(-3) @ weight           # (..., O, 1, in2)
    out = (t.squeeze(-2) * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input, p, training, inplace, feature=False, alpha=False):
    """torch's _dropout_impl: ``input * noise`` (``+ b`` for alpha dropout), written into
    input by the in-place ops themselves when ``inplace``, so those take torch's path."""
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    shape = tuple(input.shape)
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = shape[:2] + (1,) * (input.dim() - 2)
    floating = input.dtype.is_floating_point or input.dtype.is_complex
    noise = nn_ops.dropout_keep(input, p, shape, None if alpha or not floating else 1 / (1 - p))
    if alpha:
        a = 1 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = (noise - 1) * (_ALPHA * a) + _ALPHA * a * p
        noise = noise * a
        return input.mul_(noise).add_(b) if inplace else input * noise + b
    if not floating:
        noise.div_(1 - p)
    return input.mul_(noise) if inplace else input * noise


def dropout(input, p=0.5, training=True, inplace=False):
    return _dropout(input, p, training, inplace)


def _unbatched_feature_dropout(input, p, training, inplace):
    """torch runs an input without a batch dimension as a batch of one, in place too."""
    _check_p(p)
    if inplace:
        return _dropout(input.unsqueeze_(0), p, training, True, feature=True).squeeze_(0)
    return _dropout(input.unsqueeze(0), p, training, False, feature=True).squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note "
            "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    if input.dim() == 2:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _dropout(input, p, training, inplace, feature=True)


def _warn_dims(name, input, dims, spatial):
    if input.dim() not in dims:
        warnings.warn(
            f"{name}: Received a {input.dim()}-D input to {name}, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that {name} exists to provide "
            f"channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. "
            f"{dims[0]}D or {dims[1]}D inputs).", stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    _warn_dims("dropout2d", input, (3, 4), 2)
    if input.dim() == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret "
            "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
            "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout(input, p, training, inplace, feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    _warn_dims("dropout3d", input, (4, 5), 3)
    if input.dim() != 5:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _dropout(input, p, training, inplace, feature=True)


_ALPHA = 1.7580993408473766  # -SELU's negative saturation value


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


def _renorm_rows(weight, input, max_norm, norm_type):
    """torch's embedding_renorm_: rows that are looked up are scaled to max_norm, in place."""
    xp = array_module(weight._data)
    rows = xp.unique(input._data.reshape(-1))
    with grad_mode.no_grad():
        w = weight._data
        sel = w[rows]
        norms = (xp.abs(sel) ** norm_type).sum(-1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] = (sel * scale[:, None]).astype(w.dtype, copy=False)
        weight._vc[0] += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.shape[0]:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.shape[0]:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.shape[0] + padding_idx
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    if sparse:
        from ...sparse._embedding import embedding_sparse
        return embedding_sparse(weight, input, padding_idx)
    return nn_ops.embedding_lookup(weight, input, padding_idx)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """sum and mean bags as one matmul with a (bags x lookups) weighting matrix."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    idx = input._data
    if input.dim() == 2:
        b, length = idx.shape
        starts = np.arange(b) * length
        flat = input.reshape(-1)
        ends = starts + length
    else:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = _host(offsets._data).astype(np.int64)
        flat = input
        starts = off[:-1] if include_last_offset else off
        ends = np.append(off[1:], idx.size) if not include_last_offset else off[1:]
        b = len(starts)
    if max_norm is not None:
        _renorm_rows(weight, flat, max_norm, norm_type)
    rows = nn_ops.embedding_lookup(weight, flat, padding_idx)
    # The bags' layout is read on the host: it decides the shape of the weighting matrix.
    flat_idx = _host(flat._data)
    valid = flat_idx != padding_idx if padding_idx is not None else np.ones(flat_idx.shape, bool)
    if mode == "max":
        from ..._ops.reduction import max as _max
        xp = array_module(rows._data)
        outs = []
        for i in range(b):
            sel = np.nonzero(valid[starts[i]:ends[i]])[0] + starts[i]
            if sel.size == 0:
                outs.append(rows[0:1] * 0)
            else:
                outs.append(_max(nn_ops.index_gather(rows, 0, xp.asarray(sel)), 0,
                                 keepdim=True)[0])
        from ..._ops import join
        return join.cat(outs, 0)
    m = np.zeros((b, flat_idx.size), dtype=weight._data.dtype)
    for i in range(b):
        m[i, starts[i]:ends[i]] = valid[starts[i]:ends[i]]
        if mode == "mean":
            count = m[i].sum()
            if count:
                m[i] /= count
    mat = _make(array_module(weight._data).asarray(m))
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                      "per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{mode}'). Please open a feature request on "
                                      "GitHub.")
        mat = mat * per_sample_weights.reshape(1, -1)
    return mat @ rows


def one_hot(input, num_classes=-1):
    if input._data.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    a = input._data
    xp = array_module(a)
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0):
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return _make((a[..., None] == xp.arange(num_classes)).astype(np.int64))


def pad(input, pad, mode="constant", value=None):
    return nn_ops.pad(input, pad, mode, value)


__all__ = ["linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d",
           "alpha_dropout", "feature_alpha_dropout", "embedding", "embedding_bag", "one_hot",
           "pad"]
