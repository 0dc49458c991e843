"""``ember.viz``: pictures of the autograd graph, as torchviz draws torch's.

``make_dot(out)`` walks ``out.grad_fn`` and its ``next_functions`` and returns a
``graphviz.Digraph`` (the optional ``graphviz`` package, ``pip install ember[viz]``): one
box per node under torch's node name, leaf tensors in blue (named from ``params``), outputs
in green, saved tensors in orange with ``show_saved``.  Rendering needs Graphviz's ``dot``
program; without it the Digraph still holds the DOT source (``.source``), and ``render``
raises ``graphviz.ExecutableNotFound`` saying how to install it.

``python -m ember.viz [FILE]`` draws the seed session's graph.
"""
from ._dot import INSTALL_HINT, make_dot, saved_values

__all__ = ["make_dot", "saved_values", "INSTALL_HINT"]
