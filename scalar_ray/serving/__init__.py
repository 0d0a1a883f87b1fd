"""The forecast API's library: stored forecasts, the model catalogue and host, the FastAPI app (no Ray in it)."""
