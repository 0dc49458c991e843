"""ember.backends.cudnn: Ember never calls cuDNN, so it is never available."""

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    return False
