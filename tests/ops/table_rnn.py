"""Op-table entries: the fused recurrent cells (ember._ops.rnn_ops), through
torch.lstm_cell / torch.gru_cell with the same arguments."""
import torch

import ember

from .harness import OpInfo, Sample, arr

LSTM_OPS = ("_lstm_gate_activations", "_lstm_cell_update")


def _lstm_samples(rng):
    n, i, h = 3, 4, 5
    x, hx, cx = arr(rng, (n, i)), arr(rng, (n, h)), arr(rng, (n, h))
    w_ih, w_hh = arr(rng, (4 * h, i), low=-1, high=1), arr(rng, (4 * h, h), low=-1, high=1)
    b_ih, b_hh = arr(rng, (4 * h,)), arr(rng, (4 * h,))
    return [Sample((x, (hx, cx), w_ih, w_hh, b_ih, b_hh)),
            Sample((x, (hx, cx), w_ih, w_hh), name="no bias")]


def _gru_samples(rng):
    n, i, h = 3, 4, 5
    x, hx = arr(rng, (n, i)), arr(rng, (n, h))
    w_ih, w_hh = arr(rng, (3 * h, i), low=-1, high=1), arr(rng, (3 * h, h), low=-1, high=1)
    b_ih, b_hh = arr(rng, (3 * h,)), arr(rng, (3 * h,))
    return [Sample((x, hx, w_ih, w_hh, b_ih, b_hh)),
            Sample((x, hx, w_ih, w_hh), name="no bias")]


ENTRIES = [
    OpInfo("lstm_cell_h", ember.lstm_cell, torch.lstm_cell, _lstm_samples, covers=LSTM_OPS,
           output_index=0, atol=1e-6, rtol=1e-5),
    OpInfo("lstm_cell_c", ember.lstm_cell, torch.lstm_cell, _lstm_samples, covers=LSTM_OPS,
           output_index=1, atol=1e-6, rtol=1e-5),
    OpInfo("gru_cell", ember.gru_cell, torch.gru_cell, _gru_samples,
           covers=("_thnn_fused_gru_cell",), atol=1e-6, rtol=1e-5),
]
