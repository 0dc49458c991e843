"""Packed sequences: variable-length batches for the recurrent layers."""
from collections import namedtuple

import numpy as np

from ... import _creation
from ... import _dtype as D
from ..._ops import join
from ..._ops import nn_ops
from ..._tensor import _host


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Time-major steps of a batch sorted by length, with the sizes of each step."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        # As torch: the indices follow the data's device; batch_sizes stay on the CPU.
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = lambda t: None if t is None else t.to(data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _invert(perm):
    inv = np.empty(len(perm), dtype=np.int64)
    inv[_host(perm._data)] = np.arange(len(perm))
    return _creation.tensor(inv, device=perm.device)


def _lengths_list(lengths):
    if hasattr(lengths, "tolist"):
        return [int(n) for n in lengths.tolist()]
    return [int(n) for n in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    lengths = _lengths_list(lengths)
    if enforce_sorted:
        if any(lengths[i] < lengths[i + 1] for i in range(len(lengths) - 1)):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-np.asarray(lengths), kind="stable")
        sorted_indices = _creation.tensor(order.astype(np.int64), device=input.device)
        lengths = [lengths[i] for i in order]
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    if lengths and min(lengths) <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    steps = max(lengths)
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(steps)]
    data = join.cat([input[t, :batch_sizes[t]] for t in range(steps)], 0)
    return PackedSequence(data, _creation.tensor(batch_sizes, dtype=D.int64), sorted_indices,
                          None)


def _pad_sorted(sequence, padding_value, total_length=None):
    """(T, B, *) padded steps in the packed (sorted) order, and the sorted lengths."""
    data, batch_sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    b = batch_sizes[0]
    steps = len(batch_sizes)
    rows = []
    offset = 0
    trailing = [0, 0] * (data.dim() - 1)
    for bs in batch_sizes:
        chunk = data[offset:offset + bs]
        rows.append(nn_ops.pad(chunk, trailing + [0, b - bs], value=padding_value))
        offset += bs
    if total_length is not None and total_length > steps:
        fill = _creation.full((b,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
                              device=data.device)
        rows += [fill] * (total_length - steps)
    lengths = [sum(1 for bs in batch_sizes if bs > i) for i in range(b)]
    return join.stack(rows, 0), lengths


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    steps = len(sequence.batch_sizes)
    if total_length is not None and total_length < steps:
        raise ValueError("Expected total_length to be at least the length of the longest "
                         f"sequence in input, but got total_length={total_length} and max "
                         f"sequence length being {steps}")
    padded, lengths = _pad_sorted(sequence, padding_value, total_length)
    # torch returns the lengths on the CPU whatever the data's device.
    lengths = _creation.tensor(lengths, dtype=D.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices.cpu())
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        extra = longest - s.shape[0]
        pads = [0, 0] * (s.dim() - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        rows.append(nn_ops.pad(s, pads, value=padding_value))
    out = join.stack(rows, 0)
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :n] for i, n in enumerate(_lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
