"""ember.nn: modules, parameters, functional, init, utils (torch.nn's API)."""
from .parameter import Buffer, Parameter
from .parameter import UninitializedBuffer, UninitializedParameter
from .modules import *  # noqa: F401,F403
from .modules import Module
from . import attention, functional, init, parallel, utils  # noqa: F401
from .parallel import DataParallel
