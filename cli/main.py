"""The `tierbook` console command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

from typing import Any

import click

from .events_cmd import events
from .override_cmd import override
from .replay_cmd import replay
from .rule_tests import test_command
from .runs import runs
from .segment_cmds import align, calibrate, plan, segment
from .trace_cmds import explain, history
from .validate_cmd import validate


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:  # usage errors exit 2 (click's default)
        return super().main(*args, **kwargs)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tierbook")
def main() -> None:
    """tierbook: Customer Success segmentation rulesets you can validate, run, explain,
    plan and replay."""


# each command's module holds its options and what it prints; they are registered here
main.add_command(validate)
main.add_command(segment)
main.add_command(explain)
main.add_command(plan)
main.add_command(test_command)
main.add_command(replay)
main.add_command(history)
main.add_command(calibrate)
main.add_command(align)
main.add_command(runs)
main.add_command(events)
main.add_command(override)


if __name__ == "__main__":  # pragma: no cover
    main()
