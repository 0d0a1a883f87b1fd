"""What every layer shares: the observation schema, ``Window``, durations, UTC time, areas and zones, errors.

Nothing here does I/O or knows a provider, a broker or a warehouse; every other package may import it.
"""
