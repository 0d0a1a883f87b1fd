"""The Ray Serve application that exposes the forecast models over HTTP: a thin shell over ``scalar_ray``."""
