"""ember.compiler: torch.compiler's switches; Ember always runs eagerly, so nothing is
being compiled and the decorators return what they decorate."""
from ._dynamo import (allow_in_graph, assume_constant_result, disable, is_compiling,
                      list_backends, reset)
from ._runtime import compile  # noqa: A004  (torch.compiler.compile)

__all__ = ["compile", "allow_in_graph", "assume_constant_result", "disable", "is_compiling",
           "is_dynamo_compiling", "is_exporting", "list_backends", "reset"]


def is_dynamo_compiling():
    return False


def is_exporting():
    return False
