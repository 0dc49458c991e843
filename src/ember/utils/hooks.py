"""torch.utils.hooks: the handle every ``register_*hook`` returns."""
import weakref
from collections import OrderedDict


class RemovableHandle:
    """A handle which provides the capability to remove a hook.

    ``hooks_dict`` maps hook ids to hooks; the caller stores the hook under ``handle.id``.
    ``extra_dict`` (a dict or a list of dicts) holds entries under the same id that
    ``remove()`` deletes too.  The dicts are held weakly, as torch's: a handle does not keep
    its owner's hooks alive (plain ``dict`` cannot be weakly referenced: hook tables are
    OrderedDicts).
    """

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self):
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        # A handle whose dict is gone gets a dead reference, as torch's.
        self.hooks_dict_ref = weakref.ref(OrderedDict() if state[0] is None else state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = () if len(state) < 3 or state[2] is None else \
            tuple(weakref.ref(d) for d in state[2])

    def __enter__(self):
        return self

    def __exit__(self, type, value, tb):
        self.remove()


def add_hook(hooks, fn):
    """Store ``fn`` in the hook table ``hooks`` (an OrderedDict); returns its handle."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle
