"""RNN/LSTM/GRU, cells, packed sequences, attention and transformer layers vs torch."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.nn.utils import rnn as ernn

from .helpers import check_module, close, sync, to_ember

RNG = np.random.default_rng(3)


def rand(*shape):
    return torch.from_numpy(RNG.standard_normal(shape).astype(np.float32))


RECURRENT = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 2, "batch_first": True}), ("GRU", {"bias": False}),
    ("GRU", {"bidirectional": True, "batch_first": True}),
]


@pytest.mark.parametrize("name,kwargs", RECURRENT, ids=[f"{n}-{i}" for i, (n, _) in
                                                         enumerate(RECURRENT)])
def test_recurrent_layers_match_torch(name, kwargs):
    e, t = getattr(nn, name)(4, 3, **kwargs), getattr(torch.nn, name)(4, 3, **kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    x = rand(2, 5, 4) if kwargs.get("batch_first") else rand(5, 2, 4)
    check_module(e, t, x)
    # hidden state output too, with a given initial state
    sync(e, t)
    d = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1)
    h_size = kwargs.get("proj_size") or 3
    h0 = rand(d * layers, 2, h_size)
    if name == "LSTM":
        c0 = rand(d * layers, 2, 3)
        _, (eh, ec) = e(to_ember(x), (to_ember(h0), to_ember(c0)))
        _, (th, tc) = t(x, (h0, c0))
        close(eh, th)
        close(ec, tc)
    else:
        _, eh = e(to_ember(x), to_ember(h0))
        _, th = t(x, h0)
        close(eh, th)


def test_unbatched_recurrent_input():
    e, t = nn.GRU(4, 3), torch.nn.GRU(4, 3)
    check_module(e, t, rand(5, 4))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(name):
    e, t = getattr(nn, name)(4, 3), getattr(torch.nn, name)(4, 3)
    assert repr(e) == repr(t)
    check_module(e, t, rand(2, 4))
    sync(e, t)
    h = rand(2, 3)
    if name == "LSTMCell":
        eh, ec = e(to_ember(rand(2, 4)) * 0, (to_ember(h), to_ember(h)))
        th, tc = t(torch.zeros(2, 4), (h, h))
        close(eh, th)
        close(ec, tc)
    else:
        close(e(ember.zeros(2, 4), to_ember(h)), t(torch.zeros(2, 4), h))
    assert repr(nn.RNNCell(4, 3, bias=False, nonlinearity="relu")) == \
        repr(torch.nn.RNNCell(4, 3, bias=False, nonlinearity="relu"))


def test_packed_sequences_match_torch():
    seqs = [rand(4, 2), rand(2, 2), rand(3, 2)]
    tp = torch.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    ep = ernn.pack_sequence([to_ember(s) for s in seqs], enforce_sorted=False)
    close(ep.data, tp.data)
    assert ep.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert ep.sorted_indices.tolist() == tp.sorted_indices.tolist()
    assert ep.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    epad, elen = ernn.pad_packed_sequence(ep, batch_first=True)
    tpad, tlen = torch.nn.utils.rnn.pad_packed_sequence(tp, batch_first=True)
    close(epad, tpad)
    assert elen.tolist() == tlen.tolist()
    close(ernn.pad_sequence([to_ember(s) for s in seqs], padding_value=-1.0),
          torch.nn.utils.rnn.pad_sequence(seqs, padding_value=-1.0))
    e, t = nn.LSTM(2, 3), torch.nn.LSTM(2, 3)
    sync(e, t)
    eo, (eh, ec) = e(ep)
    to, (th, tc) = t(tp)
    close(eo.data, to.data)
    close(eh, th)
    close(ec, tc)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        ernn.pack_padded_sequence(ember.zeros(3, 2, 1), [1, 3])


def test_multihead_attention_variants():
    for kwargs in ({}, {"batch_first": True}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True},
                   {"add_zero_attn": True, "bias": False}):
        e = nn.MultiheadAttention(4, 2, **kwargs)
        t = torch.nn.MultiheadAttention(4, 2, **kwargs)
        assert repr(e) == repr(t)
        assert list(e.state_dict()) == list(t.state_dict())
        q = rand(3, 2, 4)
        k = rand(5, 2, kwargs.get("kdim", 4))
        v = rand(5, 2, kwargs.get("vdim", 4))
        if kwargs.get("batch_first"):
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        check_module(e, t, q, k, v)
    e, t = nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2)
    sync(e, t)
    q = rand(3, 2, 4)
    mask = torch.tensor([[False, False, True], [False, True, True]])
    causal = torch.nn.Transformer.generate_square_subsequent_mask(3)
    eo, ew = e(to_ember(q), to_ember(q), to_ember(q), key_padding_mask=to_ember(mask),
               attn_mask=to_ember(causal))
    to, tw = t(q, q, q, key_padding_mask=mask, attn_mask=causal)
    close(eo, to)
    close(ew, tw)
    eo, ew = e(to_ember(q), to_ember(q), to_ember(q), average_attn_weights=False)
    to, tw = t(q, q, q, average_attn_weights=False)
    close(ew, tw)
    close(nn.Transformer.generate_square_subsequent_mask(3), causal)


def test_transformer_layers_match_torch():
    for norm_first in (False, True):
        e = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, norm_first=norm_first,
                                       activation="gelu")
        t = torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, norm_first=norm_first,
                                             activation="gelu")
        assert repr(e) == repr(t)
        check_module(e, t, rand(3, 2, 4))
        e = nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0, norm_first=norm_first,
                                       batch_first=True)
        t = torch.nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0, norm_first=norm_first,
                                             batch_first=True)
        assert repr(e) == repr(t)
        check_module(e, t, rand(2, 3, 4), rand(2, 5, 4))
    enc_e = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0), 2,
                                  norm=nn.LayerNorm(4))
    enc_t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0),
                                        2, norm=torch.nn.LayerNorm(4), enable_nested_tensor=False)
    assert list(enc_e.state_dict()) == list(enc_t.state_dict())
    check_module(enc_e, enc_t, rand(3, 2, 4))
    tr_e = nn.Transformer(4, 2, 1, 1, 8, dropout=0.0)
    tr_t = torch.nn.Transformer(4, 2, 1, 1, 8, dropout=0.0)
    assert list(tr_e.state_dict()) == list(tr_t.state_dict())
    check_module(tr_e, tr_t, rand(3, 2, 4), rand(2, 2, 4), atol=1e-4)


def test_scaled_dot_product_attention():
    q, k, v = rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 4)
    import torch.nn.functional as TF
    close(nn.functional.scaled_dot_product_attention(to_ember(q), to_ember(k), to_ember(v)),
          TF.scaled_dot_product_attention(q, k, v))
    q5 = rand(2, 5, 4)
    close(nn.functional.scaled_dot_product_attention(to_ember(q5), to_ember(k), to_ember(v),
                                                     is_causal=True),
          TF.scaled_dot_product_attention(q5, k, v, is_causal=True))
