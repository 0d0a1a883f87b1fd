"""Entry points for ``ray job submit`` (train, backfill, replay, compact): thin shells over ``scalar_ray``."""
