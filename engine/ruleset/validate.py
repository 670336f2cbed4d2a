"""Semantic checks of a schema-valid ruleset: references, bands, grid, weights, rules.

Each check appends located problems; nothing stops at the first one.  Names that are
close to a known one get a did-you-mean suggestion.  One module per family of checks
(checks_inputs, checks_values, checks_bands, checks_rules, checks_tables, checks_operations,
checks_graph), over what they share (checks_base).
"""

from __future__ import annotations

from ..errors import Problem
from .checks_bands import BandChecks
from .checks_graph import GraphChecks
from .checks_inputs import InputChecks
from .checks_operations import OperationChecks
from .checks_rules import RuleChecks
from .checks_tables import decision_gaps
from .checks_values import ValueChecks
from .schema import schema_problems
from .yamlsafe import Document


class _Checker(InputChecks, ValueChecks, BandChecks, RuleChecks, OperationChecks, GraphChecks):
    def run(self) -> list[Problem]:
        self.collect_names()
        self.check_inputs()
        self.check_derived()
        self.check_scores()
        self.check_bands()
        self.check_grid()
        self.check_rules()
        for path, message in decision_gaps(self.d):
            self.error(path, message, "decision-gap")
        self.check_flags_and_declarations()
        self.check_capacity_gates_triggers()
        self.check_cycles()
        self.check_alignment()
        self.check_current_book()
        if not self.problems:
            self.check_tier_inputs_known()
        return self.problems


def semantic_problems(doc: Document) -> list[Problem]:
    return _Checker(doc).run()


def check_document(doc: Document) -> list[Problem]:
    """Every schema and semantic problem of a loaded document, sorted."""
    problems = schema_problems(doc)
    if problems:
        return problems
    return sorted(set(semantic_problems(doc)))
