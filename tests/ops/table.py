"""The op table: every family's entries, gathered for test_op_table.py."""
from .table_pointwise import ENTRIES as _pointwise
from .table_nn import ENTRIES as _nn
from .table_unary import ENTRIES as _unary
from .table_binary import ENTRIES as _binary
from .table_reduction import ENTRIES as _reduction
from .table_scan import ENTRIES as _scan
from .table_sorting import ENTRIES as _sorting
from .table_shape import ENTRIES as _shape
from .table_linalg import ENTRIES as _linalg
from .table_join import ENTRIES as _join
from .table_indexing import ENTRIES as _indexing
from .table_fill import ENTRIES as _fill
from .table_loss import ENTRIES as _loss
from .table_special import ENTRIES as _special
from .table_rnn import ENTRIES as _rnn
from .table_fft import ENTRIES as _fft
from .table_sparse import ENTRIES as _sparse

OP_TABLE = _pointwise + _unary + _binary + _reduction + _scan + _sorting + _shape + _linalg + _join + _indexing
OP_TABLE += _nn + _fill + _loss + _special + _rnn + _fft + _sparse
