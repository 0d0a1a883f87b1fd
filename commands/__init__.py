"""The ``scalar-ray`` command line: the outermost shell, over the library and the Ray layer.

Commands that drive the cluster import ``actors``, ``jobs`` and ``serve`` when they run, never at start-up: Ray
reads its token settings when it is imported, so ``use_ray_token`` comes first, and commands that need no cluster
(``local``, ``fetch``, ``sim``) start without loading Ray at all.
"""
