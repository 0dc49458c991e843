"""ember.nn.functional: torch.nn.functional's functions (see ``nn/_functional/``)."""
from ._functional.activation import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.misc import *  # noqa: F401,F403
from ._functional.norm import *  # noqa: F401,F403
# After conv: sampling's interpolate/upsample extend conv's with bicubic.
from ._functional.sampling import *  # noqa: F401,F403
from ._functional.pooling_extra import *  # noqa: F401,F403
from ._functional import activation as _a, attention as _t, conv as _c, loss as _l, misc as _m, norm as _n
from ._functional import pooling_extra as _p, sampling as _s

__all__ = _a.__all__ + _t.__all__ + _c.__all__ + _l.__all__ + _m.__all__ + _n.__all__
__all__ += [n for n in _s.__all__ + _p.__all__ if n not in __all__]
