"""ember.utils.benchmark: torch.utils.benchmark's Timer, Measurement and Compare (Python
statements; torch's C++ and Callgrind timers have no counterpart)."""
from .utils.common import Measurement, TaskSpec, select_unit, trim_sigfig, unit_to_english
from .utils.compare import Compare
from .utils.timer import Language, Timer, timer

__all__ = ["Timer", "timer", "Language", "Measurement", "TaskSpec", "Compare", "select_unit",
           "trim_sigfig", "unit_to_english"]
