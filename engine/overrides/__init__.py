"""Durable overrides (docs/overrides.md): a person pins an account's tier or adds or removes
a flag, with an owner, a reason and an expiry; applied after the rules on every run.

model  the typed overrides     load  the file, checked (schema, then against the ruleset)
apply  effective tiers and flags, and what the overrides add up to
edit   `tierbook override add/remove`: the file edited in place, its comments kept
"""
