"""Building blocks: plain functions ``(x, filters, *, stride, name) -> tensor`` over keras layers."""

from cnnkit._autoload import export_submodules

__all__ = export_submodules(__name__, __path__, globals())
