"""scalar-ray: a European energy-market data platform on Ray.

The library runs without a cluster; ``actors/``, ``serve/`` and ``jobs/`` are thin Ray shells over it.
"""

from __future__ import annotations

import logging

from scalar_ray.core.errors import ScalarError

__all__ = ["ScalarError", "__version__"]

__version__ = "0.1.0"

# A library never configures logging; the CLI and the Ray shells do.
logging.getLogger(__name__).addHandler(logging.NullHandler())
