"""ember.backends.openmp: Ember's own code starts no OpenMP threads."""


def is_available():
    return False
