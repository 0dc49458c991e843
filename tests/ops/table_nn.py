"""Op-table entries: the nn ops (ember._ops.nn_ops and ember._ops.conv)."""
import numpy as np
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F

from .harness import OpInfo, Sample, arr


def _idx(rng, shape, high):
    return rng.integers(0, high, size=shape).astype("int64")


def _unpool(lib_f):
    def fn(x):
        y, idx = lib_f.max_pool2d(x, 2, return_indices=True)
        return lib_f.max_unpool2d(y, idx, 2)
    return fn


ENTRIES = [
    OpInfo("softmax", lambda x, dim: F.softmax(x, dim), lambda x, dim: TF.softmax(x, dim),
           lambda rng: [Sample((arr(rng, (3, 4)), 1)), Sample((arr(rng, (3, 4)), 0)),
                        Sample((arr(rng, (2, 3, 4)), -1)),
                        Sample((arr(rng, (2, 5), low=-80, high=80), 1), name="large")],
           covers=("softmax", "softmax_backward_data")),
    OpInfo("log_softmax", lambda x, dim: F.log_softmax(x, dim),
           lambda x, dim: TF.log_softmax(x, dim),
           lambda rng: [Sample((arr(rng, (3, 4)), 1)), Sample((arr(rng, (2, 3, 4)), 0)),
                        Sample((arr(rng, (2, 5), low=-500, high=500), 1), name="large")],
           covers=("log_softmax", "log_softmax_backward_data"), atol=1e-4),
    OpInfo("softplus", F.softplus, TF.softplus,
           lambda rng: [Sample((arr(rng, (3, 4)),)), Sample((arr(rng, (6,)), 2.0, 1.0)),
                        Sample((arr(rng, (5,), low=-100, high=100),), name="large")]),
    OpInfo("binary_cross_entropy_with_logits",
           # pos_weight is a list here: torch refuses a pos_weight that requires grad.
           lambda x, y, pw=None, reduction="none": F.binary_cross_entropy_with_logits(
               x, y, pos_weight=None if pw is None else ember.tensor(pw, dtype=x.dtype),
               reduction=reduction),
           lambda x, y, pw=None, reduction="none": TF.binary_cross_entropy_with_logits(
               x, y, pos_weight=None if pw is None else torch.tensor(pw, dtype=x.dtype),
               reduction=reduction),
           lambda rng: [Sample((arr(rng, (3, 4)), arr(rng, (3, 4), low=0, high=1))),
                        Sample((arr(rng, (3, 4), low=-50, high=50), arr(rng, (3, 4), low=0, high=1),
                                [0.5, 2.0, 1.0, 3.0]), name="pos_weight"),
                        Sample((arr(rng, (5,)), arr(rng, (5,), low=0, high=1)),
                               {"reduction": "mean"})]),
    OpInfo("nll_loss", F.nll_loss, TF.nll_loss,
           lambda rng: [Sample((arr(rng, (4, 3)), _idx(rng, (4,), 3))),
                        Sample((arr(rng, (2, 3, 2, 2)), _idx(rng, (2, 2, 2), 3)),
                               {"reduction": "none"}),
                        Sample((arr(rng, (3,)), _idx(rng, (), 3)), {"reduction": "sum"}),
                        Sample((arr(rng, (5, 4)), _idx(rng, (5,), 4)),
                               {"ignore_index": 2, "reduction": "mean"}),
                        Sample((arr(rng, (5, 4)), _idx(rng, (5,), 4), arr(rng, (4,), low=0.5)),
                               {"reduction": "mean"}, name="weighted_mean", grad=False),
                        Sample((arr(rng, (2, 3, 4)), _idx(rng, (2, 4), 3)), name="nd_mean")],
           covers=("nll_loss", "nll_loss_backward")),
    OpInfo("cross_entropy", F.cross_entropy, TF.cross_entropy,
           lambda rng: [Sample((arr(rng, (4, 3), low=-60, high=60), _idx(rng, (4,), 3))),
                        Sample((arr(rng, (2, 3, 4)), _idx(rng, (2, 4), 3)),
                               {"label_smoothing": 0.2})],
           covers=("nll_loss", "log_softmax"), atol=1e-4),
    OpInfo("gelu", F.gelu, TF.gelu,
           lambda rng: [Sample((arr(rng, (3, 4)),)),
                        Sample((arr(rng, (5,)),), {"approximate": "tanh"})],
           covers=("gelu", "gelu_backward")),
    OpInfo("native_layer_norm", F.layer_norm, TF.layer_norm,
           lambda rng: [Sample((arr(rng, (3, 5)), (5,), arr(rng, (5,)), arr(rng, (5,)))),
                        Sample((arr(rng, (2, 3, 4), low=90, high=110), (3, 4), arr(rng, (3, 4)),
                                None), {"eps": 1e-3}, name="offset_no_bias"),
                        Sample((arr(rng, (4, 6)), (6,)), name="no_affine"),
                        Sample((arr(rng, (2, 3)), (3,), None, arr(rng, (3,))), name="bias_only",
                               grad=False)],  # torch's own double backward fails there
           covers=("native_layer_norm", "native_layer_norm_backward"), atol=1e-5),
    # torch's flash kernel has no second derivative (it raises; so does Ember's).
    OpInfo("scaled_dot_product_attention", F.scaled_dot_product_attention,
           TF.scaled_dot_product_attention,
           lambda rng: [Sample((arr(rng, (2, 2, 3, 4)), arr(rng, (2, 2, 5, 4)),
                                arr(rng, (2, 2, 5, 4)))),
                        Sample((arr(rng, (1, 2, 4, 3)), arr(rng, (1, 2, 4, 3)),
                                arr(rng, (1, 2, 4, 3))), {"is_causal": True, "scale": 0.7}),
                        Sample((arr(rng, (1, 1, 3, 2)), arr(rng, (1, 1, 4, 2)),
                                arr(rng, (1, 1, 4, 2))),
                               {"attn_mask": np.array([[True, False, True, True]])},
                               name="bool_mask")],
           covers=("scaled_dot_product_attention", "scaled_dot_product_attention_backward"),
           gradgrad=False, atol=1e-5),
    OpInfo("embedding", F.embedding, TF.embedding,
           lambda rng: [Sample((_idx(rng, (2, 3), 5), arr(rng, (5, 4))))],
           covers=("embedding", "embedding_dense_backward")),
    # padding_idx's row gets no gradient by definition, so finite differences disagree.
    OpInfo("embedding_padding_idx", F.embedding, TF.embedding,
           lambda rng: [Sample((_idx(rng, (7,), 4), arr(rng, (4, 3))), {"padding_idx": 1})],
           covers=("embedding",), fd=False),
    OpInfo("constant_pad_nd", F.pad, TF.pad,
           lambda rng: [Sample((arr(rng, (2, 3)), (1, 2))),
                        Sample((arr(rng, (2, 3, 4)), (1, 1, 2, 0)), {"value": 1.5}),
                        Sample((arr(rng, (3, 4)), (-1, 1, 0, -2)))]),
    OpInfo("index_pad", F.pad, TF.pad,
           lambda rng: [Sample((arr(rng, (1, 2, 4, 5)), (1, 2, 2, 1)), {"mode": "reflect"}),
                        Sample((arr(rng, (1, 2, 4)), (2, 3)), {"mode": "replicate"}),
                        Sample((arr(rng, (1, 2, 3, 4)), (1, 2, 2, 1)), {"mode": "circular"})],
           covers=("index_pad", "index_pad_backward")),
    OpInfo("max_pool", F.max_pool2d, TF.max_pool2d,
           lambda rng: [Sample((arr(rng, (2, 2, 4, 4)), 2)),
                        Sample((arr(rng, (1, 2, 5, 5)), 3), {"stride": 2, "padding": 1}),
                        Sample((arr(rng, (1, 1, 5, 6)), 2), {"ceil_mode": True}),
                        Sample((arr(rng, (1, 1, 6, 6)), 2), {"dilation": 2})],
           covers=("max_pool_gather",)),
    OpInfo("max_pool1d", F.max_pool1d, TF.max_pool1d,
           lambda rng: [Sample((arr(rng, (2, 3, 7)), 3), {"stride": 2, "padding": 1})],
           covers=("max_pool_gather",)),
    OpInfo("max_unpool", _unpool(F), _unpool(TF),
           lambda rng: [Sample((arr(rng, (1, 2, 4, 4)),))], covers=("max_unpool",)),
    OpInfo("conv2d", F.conv2d, TF.conv2d,
           lambda rng: [Sample((arr(rng, (2, 3, 5, 5)), arr(rng, (4, 3, 3, 3)), arr(rng, (4,)))),
                        Sample((arr(rng, (1, 4, 6, 5)), arr(rng, (4, 2, 2, 3)), None, 2, 1, 1, 2)),
                        Sample((arr(rng, (1, 2, 7, 7)), arr(rng, (2, 2, 3, 3)), None, 1, 2, 2)),
                        Sample((arr(rng, (1, 2, 5, 5)), arr(rng, (3, 2, 2, 2))),
                               {"padding": "same"})],
           covers=("convolution", "convolution_transpose", "convolution_weight"), atol=1e-4,
           grad_atol=1e-3),
    OpInfo("conv1d", F.conv1d, TF.conv1d,
           lambda rng: [Sample((arr(rng, (2, 2, 7)), arr(rng, (3, 2, 3)), arr(rng, (3,)), 2, 1))],
           covers=("convolution",), atol=1e-4, grad_atol=1e-3),
    OpInfo("conv3d", F.conv3d, TF.conv3d,
           lambda rng: [Sample((arr(rng, (1, 2, 3, 4, 3)), arr(rng, (2, 2, 2, 2, 2))))],
           covers=("convolution",), atol=1e-4, grad_atol=1e-3),
    OpInfo("conv_transpose2d", F.conv_transpose2d, TF.conv_transpose2d,
           lambda rng: [Sample((arr(rng, (1, 2, 3, 3)), arr(rng, (2, 3, 3, 3)), arr(rng, (3,)))),
                        Sample((arr(rng, (1, 4, 3, 2)), arr(rng, (4, 1, 3, 2)), None, 2, 1, 1, 2)),
                        Sample((arr(rng, (1, 2, 3, 3)), arr(rng, (2, 2, 2, 2))),
                               {"stride": 2, "dilation": 2})],
           covers=("convolution_transpose", "convolution", "convolution_weight"), atol=1e-4,
           grad_atol=1e-3),
    OpInfo("conv_transpose1d", F.conv_transpose1d, TF.conv_transpose1d,
           lambda rng: [Sample((arr(rng, (2, 2, 4)), arr(rng, (2, 3, 3)), None, 2, 1, 1))],
           covers=("convolution_transpose",), atol=1e-4, grad_atol=1e-3),
    # torch's top-level and method spellings of the same ops
    OpInfo("softmax_toplevel", lambda x, d: (ember.softmax(x, d), x.softmax(d)),
           lambda x, d: (torch.softmax(x, d), x.softmax(d)),
           lambda rng: [Sample((arr(rng, (3, 4)), 1), grad=False),
                        Sample((arr(rng, (2, 3)), 0), grad=False)],
           covers=("softmax",), grad=False),
    OpInfo("log_softmax_toplevel", lambda x, d: ember.log_softmax(x, d) + x.log_softmax(d),
           lambda x, d: torch.log_softmax(x, d) + x.log_softmax(d),
           lambda rng: [Sample((arr(rng, (3, 4)), -1))], covers=("log_softmax",)),
    OpInfo("linalg_diagonal", lambda x: ember.linalg.diagonal(x, offset=1) * 2,
           lambda x: torch.linalg.diagonal(x, offset=1) * 2,
           lambda rng: [Sample((arr(rng, (2, 3, 4)),))], covers=("mul",)),
    OpInfo("dropout_eval", lambda x: ember.dropout(x, 0.5, False) * ember.detach(x),
           lambda x: torch.dropout(x, 0.5, False) * torch.detach(x),
           lambda rng: [Sample((arr(rng, (3, 4)),))], covers=("mul",), gradgrad=False,
           fd=False),  # detach hides half the dependence from the analytic gradient only
]
