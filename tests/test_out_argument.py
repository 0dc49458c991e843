"""out= writes the result into the given tensor (and returns it) for every function that
takes it; these functions used to accept out= and ignore it."""
import pytest

from tests._compare import same


def _m(L):
    return L.tensor([[2.0, 1.0], [1.0, 3.0]])


CASES = {
    "addmm": lambda L, o: L.addmm(L.empty(2, 2), _m(L), _m(L), beta=0.0, out=o),
    "baddbmm": lambda L, o: L.baddbmm(L.zeros(1, 2, 2), _m(L)[None], _m(L)[None], out=o),
    "addbmm": lambda L, o: L.addbmm(L.zeros(2, 2), _m(L)[None], _m(L)[None], out=o),
    "addmv": lambda L, o: L.addmv(L.ones(2), _m(L), L.ones(2), out=o),
    "addr": lambda L, o: L.addr(L.zeros(2, 2), L.ones(2), L.arange(2.0), out=o),
    "matmul": lambda L, o: L.matmul(_m(L), _m(L), out=o),
    "mm": lambda L, o: L.mm(_m(L), _m(L), out=o),
    "bmm": lambda L, o: L.bmm(_m(L)[None], _m(L)[None], out=o),
    "mv": lambda L, o: L.mv(_m(L), L.ones(2), out=o),
    "dot": lambda L, o: L.dot(L.ones(2), L.arange(2.0), out=o),
    "outer": lambda L, o: L.outer(L.ones(2), L.arange(2.0), out=o),
    "kron": lambda L, o: L.kron(_m(L), _m(L), out=o),
    "tensordot": lambda L, o: L.tensordot(_m(L), _m(L), dims=1, out=o),
    "cat": lambda L, o: L.cat([_m(L), _m(L)], out=o),
    "stack": lambda L, o: L.stack([_m(L), _m(L)], out=o),
    "tril": lambda L, o: L.tril(_m(L), out=o),
    "gather": lambda L, o: L.gather(_m(L), 1, L.tensor([[1, 0], [0, 0]]), out=o),
    "index_select": lambda L, o: L.index_select(_m(L), 0, L.tensor([1]), out=o),
    "masked_select": lambda L, o: L.masked_select(_m(L), _m(L) > 1.5, out=o),
    "norm": lambda L, o: L.norm(_m(L), dim=1, out=o),
    "linalg.inv": lambda L, o: L.linalg.inv(_m(L), out=o),
    "linalg.det": lambda L, o: L.linalg.det(_m(L), out=o),
    "linalg.solve": lambda L, o: L.linalg.solve(_m(L), _m(L), out=o),
    "linalg.cholesky": lambda L, o: L.linalg.cholesky(L.tensor([[4.0, 2.0], [2.0, 5.0]]), out=o),
    "linalg.vector_norm": lambda L, o: L.linalg.vector_norm(_m(L), out=o),
    "linalg.cross": lambda L, o: L.linalg.cross(L.ones(3), L.arange(3.0), out=o),
    "full": lambda L, o: L.full((2, 2), 3.0, out=o),
    "arange": lambda L, o: L.arange(4.0, out=o),
    "linspace": lambda L, o: L.linspace(0, 1, 5, out=o),
    "eye": lambda L, o: L.eye(3, out=o),
    "nn.functional.normalize": lambda L, o: L.nn.functional.normalize(_m(L), out=o),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_is_written_and_returned_like_torch(name):
    def run(L):
        o = L.empty(0)
        r = CASES[name](L, o)
        return [o, r is o]
    same(run)


def test_out_tuple_of_a_decomposition_like_torch():
    def run(L):
        outs = (L.empty(0), L.empty(0))
        r = L.linalg.slogdet(_m(L), out=outs)
        return [outs[0], outs[1], r[0] is outs[0], r[1] is outs[1]]
    same(run)


def test_addmm_into_its_own_input_like_torch():
    # pytorch-optimizer's Newton-Schulz iteration: addmm(a, a, a, beta=..., out=b) and
    # addmm(c, c, c, out=c).
    def run(L):
        c = L.ones(2, 2)
        r = L.addmm(c, _m(L), _m(L), beta=0.5, alpha=2.0, out=c)
        return [c, r is c]
    same(run)
