"""Op-table entries: the loss ops with torch's own gradient formulas (ember._ops.loss_ops)."""
import numpy as np
import torch.nn.functional as TF

import ember.nn.functional as F

from .harness import OpInfo, Sample, arr


def _bce(lib_f):
    return lambda x, y, reduction="none": lib_f.binary_cross_entropy(x, y, reduction=reduction)


def _boundary(rng):
    # Inputs exactly 0 and 1: torch clamps the logs at -100 and the gradient's
    # denominator at 1e-12, so values and input gradients stay finite.
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.25], dtype="float32")
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0], dtype="float32")
    return [Sample((x, y)), Sample((x, y), {"reduction": "sum"})]


def _ctc(lib_f):
    # Through log_softmax, as CTC is used: torch's gradient formula assumes normalised
    # log-probabilities, and then it is the exact derivative.
    def fn(x, targets, input_lengths, target_lengths, **kw):
        return lib_f.ctc_loss(lib_f.log_softmax(x, -1), targets, input_lengths, target_lengths,
                              **kw)
    return fn


def _ctc_samples(rng):
    lengths = np.array([6, 4, 5], dtype="int64")
    padded = np.array([[1, 1, 2], [2, 0, 0], [3, 2, 0]], dtype="int64")
    target_lengths = np.array([3, 1, 2], dtype="int64")
    concat = np.array([1, 1, 2, 2, 3, 2], dtype="int64")
    return [Sample((arr(rng, (6, 3, 4)), padded, lengths, target_lengths),
                   {"reduction": "none"}),
            Sample((arr(rng, (6, 3, 4)), concat, lengths, target_lengths)),
            Sample((arr(rng, (6, 3, 4)), padded, lengths, target_lengths),
                   {"reduction": "sum", "blank": 3}),
            # Sample 0 needs 4 frames for [1, 1, 2] but gets 3: infinite loss, zeroed.
            Sample((arr(rng, (6, 3, 4)), padded, np.array([3, 4, 5], dtype="int64"),
                    target_lengths), {"zero_infinity": True}),
            Sample((arr(rng, (5, 4)), np.array([1, 2], dtype="int64"),
                    np.array(5, dtype="int64"), np.array(2, dtype="int64")),
                   {"reduction": "none"}, name="unbatched")]


ENTRIES = [
    OpInfo("binary_cross_entropy", _bce(F), _bce(TF),
           lambda rng: [Sample((arr(rng, (3, 4), low=0.05, high=0.95),
                                arr(rng, (3, 4), low=0, high=1))),
                        Sample((arr(rng, (5,), low=0.05, high=0.95),
                                arr(rng, (5,), low=0, high=1)), {"reduction": "mean"})],
           covers=("binary_cross_entropy", "binary_cross_entropy_backward"), atol=1e-5,
           grad_atol=1e-4),
    OpInfo("binary_cross_entropy_boundary", _bce(F), _bce(TF), _boundary,
           covers=("binary_cross_entropy", "binary_cross_entropy_backward"), fd=False),
    OpInfo("ctc_loss", _ctc(F), _ctc(TF), _ctc_samples,
           covers=("ctc_loss", "ctc_loss_backward", "log_softmax"), gradgrad=False, atol=1e-5,
           grad_atol=1e-5),
]
