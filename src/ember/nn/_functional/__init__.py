"""The pieces of ``ember.nn.functional``, split by concept."""
