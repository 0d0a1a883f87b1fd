"""Long-lived Ray actors (acquisition, ingestion, forecasting, supervisor): thin shells over ``scalar_ray``."""
