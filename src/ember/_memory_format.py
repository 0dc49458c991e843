"""torch's memory-format tokens. Ember's arrays are always laid out as NumPy made them,
so the tokens are accepted wherever torch takes ``memory_format=`` and change nothing."""

__all__ = ["memory_format", "preserve_format", "contiguous_format", "channels_last",
           "channels_last_3d"]


class memory_format:
    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"torch.{self._name}"

    def __reduce__(self):  # pickles as the module-level token, as torch's do
        return self._name


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
