"""Teaching code behind the notebooks that demonstrate rather than ablate: each module computes the
tables, curves and checks one notebook shows (``backprop`` → 00, ``pooling`` → 04, ``convolutions`` → 05,
``activations`` → 06).
"""

from cnnkit.teach import activations, backprop, convolutions, pooling

__all__ = ["activations", "backprop", "convolutions", "pooling"]
