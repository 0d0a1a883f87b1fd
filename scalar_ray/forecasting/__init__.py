"""Forecasting: model families, training frames, AutoGluon training and backtests, registry, issuing, strategy."""
