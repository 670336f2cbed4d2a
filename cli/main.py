"""The `tierbook` console command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

from typing import Any

import click

# every command, by the name it is run as; each is imported from its module (one module per
# group of commands) only when it runs or when --help lists them all, so `tierbook validate`
# imports neither segment's options nor the engine behind them
COMMANDS = (
    "validate", "segment", "explain", "plan", "test", "replay", "history", "calibrate",
    "align", "runs", "events", "override",
)  # fmt: skip


def _command(name: str) -> click.Command | None:
    command: click.Command
    if name == "validate":
        from .validate_cmd import validate as command
    elif name in ("segment", "plan", "calibrate", "align"):
        from . import segment_cmds

        command = getattr(segment_cmds, name)
    elif name in ("explain", "history"):
        from . import trace_cmds

        command = getattr(trace_cmds, name)
    elif name == "test":
        from .rule_tests import test_command as command
    elif name == "replay":
        from .replay_cmd import replay as command
    elif name == "runs":
        from .runs import runs as command
    elif name == "events":
        from .events_cmd import events as command
    elif name == "override":
        from .override_cmd import override as command
    else:
        return None
    return command


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:  # usage errors exit 2 (click's default)
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _command(cmd_name) if cmd_name in COMMANDS else None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tierbook")
def main() -> None:
    """tierbook: Customer Success segmentation rulesets you can validate, run, explain,
    plan and replay."""


if __name__ == "__main__":  # pragma: no cover
    main()
