"""Flatten parameters into one vector and back."""


def _check_same_device(param, old):
    dev = param.device
    if old is not None and dev != old:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return dev


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated (differentiable)."""
    from ..._ops import join
    dev = None
    vec = []
    for p in parameters:
        dev = _check_same_device(p, dev)
        vec.append(p.reshape(-1))
    return join.cat(vec)


def vector_to_parameters(vec, parameters):
    """Copy slices of ``vec`` into each parameter's data, in order."""
    from ..._tensor import Tensor
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    dev = None
    pointer = 0
    for p in parameters:
        dev = _check_same_device(p, dev)
        n = p.numel()
        p._data = vec._data[pointer:pointer + n].reshape(p._data.shape).astype(p._data.dtype)
        p._vc = [0]
        pointer += n
