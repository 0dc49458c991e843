"""ember.backends.mkldnn: Ember has no oneDNN kernels (torch's CPU build reports True here;
Ember reports False so scripts do not take the ``to_mkldnn`` path it lacks)."""

enabled = True


def is_available():
    return False
