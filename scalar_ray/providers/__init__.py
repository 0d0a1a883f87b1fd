"""Market-data providers: one module per provider, an HTTP client (I/O) and a pure parser each."""
