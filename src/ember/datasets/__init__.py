"""Small data sets shipped inside the package, so examples and tests run offline.

``digits``: the UCI optical recognition of handwritten digits test set (1,797 images of
8x8 pixels, values 0..16, labels 0..9), as distributed with scikit-learn's
``load_digits``; stored as ``digits.npz`` (``images`` uint8 [1797, 8, 8],
``target`` int64 [1797]).
"""
import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))


def load_digits_arrays():
    """The digits as NumPy arrays: ``(images uint8 [N, 8, 8], target int64 [N])``."""
    with np.load(os.path.join(_HERE, "digits.npz")) as f:
        return f["images"], f["target"]


def load_digits(dtype=None):
    """The digits as Ember tensors: images scaled to [0, 1] ``[N, 1, 8, 8]``, labels int64.

    >>> images, labels = load_digits()
    >>> images.shape, labels.shape
    (torch.Size([1797, 1, 8, 8]), torch.Size([1797]))
    """
    from .._creation import from_numpy
    from .. import _dtype as D
    images, target = load_digits_arrays()
    np_dtype = (dtype or D.get_default_dtype()).np
    x = (images.astype(np_dtype) / np_dtype.type(16.0))[:, None, :, :]
    return from_numpy(np.ascontiguousarray(x)), from_numpy(target.copy())
