"""RNN, LSTM, GRU and their cells.

The recurrences are ordinary ops plus one fused op per LSTM/GRU step
(``ember._ops.rnn_ops``), so autograd differentiates through time, to any order;
the time loop is in ``nn/_functional/rnn.py``.
"""
import math

from ... import _creation
from ..._ops import join
from ..._ops.rnn_ops import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from .. import functional as F
from .. import init
from .._functional.rnn import alive_masks, run_direction
from ..parameter import Parameter
from .module import Module


class RNNBase(Module):
    _gates = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        gate_size = self._gates[mode] * hidden_size
        fk = {"device": device, "dtype": dtype}
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(directions):
                in_size = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                params = [("weight_ih", (gate_size, in_size)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    params += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    params.append(("weight_hr", (proj_size, hidden_size)))
                for base, shape in params:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(_creation.empty(shape, **fk)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in self._flat_weights_names if n.endswith(f"_l{layer}" + s)]
                for layer in range(self.num_layers)
                for s in ([""] + (["_reverse"] if self.bidirectional else []))]

    def flatten_parameters(self):
        pass

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _layer_params(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = (lambda base: getattr(self, f"{base}_l{layer}{suffix}", None))
        params = [get("weight_ih"), get("weight_hh"), get("bias_ih") if self.bias else None,
                  get("bias_hh") if self.bias else None]
        if self.proj_size > 0:
            params.append(get("weight_hr"))
        return params

    def _check_input(self, input):
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def forward(self, input, hx=None):
        from ..utils.rnn import PackedSequence
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        self._check_input(input)
        unbatched = input.dim() == 2
        if unbatched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if isinstance(hx, tuple) else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        output, hidden = self._run(input, hx, None)
        if unbatched:
            output = output.squeeze(1)
            hidden = tuple(h.squeeze(1) for h in hidden) if isinstance(hidden, tuple) \
                else hidden.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, hidden

    def _initial_state(self, input, hx):
        directions = 2 if self.bidirectional else 1
        n = input.shape[1]
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        zeros = (lambda size: _creation.zeros((self.num_layers * directions, n, size),
                                              dtype=input.dtype, device=input.device))
        if self.mode == "LSTM":
            if hx is None:
                return zeros(real_hidden), zeros(self.hidden_size)
            h0, c0 = hx
            expected = (self.num_layers * directions, n, real_hidden)
            if tuple(h0.shape) != expected:
                raise RuntimeError(f"Expected hidden[0] size {expected}, got {tuple(h0.shape)}")
            return h0, c0
        if hx is None:
            return zeros(self.hidden_size), None
        expected = (self.num_layers * directions, n, self.hidden_size)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {tuple(hx.shape)}")
        return hx, None

    def _run(self, input, hx, lengths):
        """input (L, N, H_in); ``lengths`` (per batch element) for packed sequences."""
        directions = 2 if self.bidirectional else 1
        lstm = self.mode == "LSTM"
        h0, c0 = self._initial_state(input, hx)
        alive = alive_masks(lengths, input.shape[0], input) if lengths is not None else None
        layer_input = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                idx = layer * directions + direction
                state = (h0[idx], c0[idx]) if lstm else h0[idx]
                out, state = run_direction(self.mode, layer_input, state,
                                           self._layer_params(layer, direction),
                                           reverse=direction == 1, alive=alive)
                outs.append(out)
                if lstm:
                    h_n.append(state[0])
                    c_n.append(state[1])
                else:
                    h_n.append(state)
            layer_output = outs[0] if directions == 1 else join.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_output = F.dropout(layer_output, self.dropout, True)
            layer_input = layer_output
        h_n = join.stack(h_n, 0)
        if lstm:
            return layer_input, (h_n, join.stack(c_n, 0))
        return layer_input, h_n

    def _forward_packed(self, packed, hx):
        from ..utils.rnn import PackedSequence, _pad_sorted
        padded, lengths = _pad_sorted(packed, 0.0)
        if hx is not None and packed.sorted_indices is not None:
            hx = tuple(h.index_select(1, packed.sorted_indices) for h in hx) \
                if isinstance(hx, tuple) else hx.index_select(1, packed.sorted_indices)
        output, hidden = self._run(padded, hx, lengths)
        from ..utils.rnn import pack_padded_sequence
        out_packed = pack_padded_sequence(output, lengths, enforce_sorted=True)
        out_packed = PackedSequence(out_packed.data, out_packed.batch_sizes,
                                    packed.sorted_indices, packed.unsorted_indices)
        if packed.unsorted_indices is not None:
            hidden = tuple(h.index_select(1, packed.unsorted_indices) for h in hidden) \
                if isinstance(hidden, tuple) else hidden.index_select(1, packed.unsorted_indices)
        return out_packed, hidden


class RNN(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


class LSTM(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


class RNNCellBase(Module):
    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate = self._gates * hidden_size
        fk = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(_creation.empty((gate, input_size), **fk))
        self.weight_hh = Parameter(_creation.empty((gate, hidden_size), **fk))
        if bias:
            self.bias_ih = Parameter(_creation.empty(gate, **fk))
            self.bias_hh = Parameter(_creation.empty(gate, **fk))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, n_state):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.dim()}D instead")
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = _creation.zeros((input.shape[0], self.hidden_size), dtype=input.dtype,
                                    device=input.device)
            hx = zeros if n_state == 1 else (zeros, zeros)
        elif unbatched:
            hx = hx.unsqueeze(0) if n_state == 1 else tuple(h.unsqueeze(0) for h in hx)
        return input, hx, unbatched

    def _params(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, hx, unbatched = self._prepare(input, hx, 1)
        if self.nonlinearity == "tanh":
            h = rnn_tanh_cell(input, hx, *self._params())
        elif self.nonlinearity == "relu":
            h = rnn_relu_cell(input, hx, *self._params())
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    _gates = 4

    def forward(self, input, hx=None):
        input, hx, unbatched = self._prepare(input, hx, 2)
        h, c = lstm_cell(input, hx, *self._params())
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    _gates = 3

    def forward(self, input, hx=None):
        input, hx, unbatched = self._prepare(input, hx, 1)
        h = gru_cell(input, hx, *self._params())
        return h.squeeze(0) if unbatched else h
