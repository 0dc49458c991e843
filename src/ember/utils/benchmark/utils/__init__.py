"""The modules of ember.utils.benchmark, laid out as torch.utils.benchmark.utils."""
