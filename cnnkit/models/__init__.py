"""The model zoo. ``build(name, input_shape=..., num_classes=..., **options)`` and ``available()``.

Every module in this package registers its variants with ``@register_model``; they are
imported here automatically.
"""

from cnnkit._autoload import export_submodules
from cnnkit.models._registry import available, bn_defaults, build, get_builder, options, register_model

__all__ = ["available", "bn_defaults", "build", "get_builder", "options", "register_model"]
__all__ += export_submodules(__name__, __path__, globals())
