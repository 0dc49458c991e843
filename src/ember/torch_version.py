"""TorchVersion: torch's version string type (``torch.torch_version.TorchVersion``).

A ``str`` that also compares with version strings, tuples and ``packaging`` Versions by
version order, as libraries expect of ``torch.__version__`` (``torch.__version__ >= (2, 0)``).
"""
import re

# The torch release whose API Ember follows; under ``ember.compat`` ``torch.__version__``
# reports it, with a local part naming Ember.
TORCH_RELEASE = "2.13.0"

__all__ = ["TorchVersion", "TORCH_RELEASE"]


def _key(version):
    """A comparable key: packaging's Version when installed, else the release numbers
    (pre/post releases and local parts then compare as the plain release)."""
    try:
        from packaging.version import Version
    except ImportError:
        release = re.match(r"\d+(?:\.\d+)*", version)
        if release is None:
            raise ValueError(f"Invalid version: '{version}'") from None
        nums = [int(n) for n in release.group().split(".")]
        while len(nums) > 1 and nums[-1] == 0:  # 2.0 == 2.0.0, as packaging compares
            nums.pop()
        return tuple(nums)
    return Version(version)


def _as_str(other):
    if isinstance(other, (tuple, list)):
        return ".".join(str(part) for part in other)
    if isinstance(other, str):
        return other
    if hasattr(other, "release"):  # a packaging Version
        return str(other)
    raise TypeError(f"'{other}' of type {type(other).__name__} cannot be compared with "
                    "TorchVersion")


class TorchVersion(str):
    """``TorchVersion("2.13.0+ember") >= "2.0"`` is True; equality is by version too."""

    def _cmp(self, other, op):
        try:
            return op(_key(str(self)), _key(_as_str(other)))
        except TypeError:
            return NotImplemented

    def __lt__(self, other):
        return self._cmp(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._cmp(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._cmp(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._cmp(other, lambda a, b: a >= b)

    def __eq__(self, other):
        result = self._cmp(other, lambda a, b: a == b)
        return str.__eq__(self, other) if result is NotImplemented else result

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = str.__hash__
