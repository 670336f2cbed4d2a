"""Run inputs beside the ruleset: extra tables keyed by the account id rolled up into the
account row (filters and windowed aggregations relative to the as-of date, all as data),
a team's own column names mapped onto the ruleset's inputs for one run, and the CSM
headcount per tier.  Nothing is imported here, so `tierbook --help` loads none of it.

  model     the typed declaration (tables, columns, filters, windows, aggregations)
  load      an inputs file: YAML with positions, JSON Schema, semantic checks
  options   --table NAME=FILE, --map COLUMN=INPUT, --csms TIER=N with the file's own
  tables    a declared table read into typed columns, every problem located
  rollup    the aggregations as one lazy polars query, one row per account
  types     the type each roll-up gives, and whether the input it feeds takes it
  unmatched a table's rows whose account id is no account's, and the ids like one
  apply     the roll-ups joined onto the portfolio as input columns
"""
