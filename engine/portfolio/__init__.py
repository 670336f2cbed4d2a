"""The portfolio stage: a file (CSV, JSON Lines, Parquet) -> typed account inputs.

``formats`` reads a file into its header and text cells with their lines, ``headers``
finds each input's column, ``cells`` is the one parser per input type, ``frame`` casts the
columns and locates every problem (``frame.read_portfolio``).  Nothing is imported here,
so that a command that only needs ``headers`` does not load polars.
"""
