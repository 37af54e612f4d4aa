"""What every command is handed: the API client, built by the root group from its options.

The password source is part of :class:`Session` so tests (and other callers) can give their own:
``cli.main(args, obj=Session(password=...))`` or ``CliRunner().invoke(cli, args, obj=Session(...))``.
By default it is :func:`read_password`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import click

from cli.client import ENV_PASSWORD, ApiClient, CliError

P = ParamSpec("P")
R = TypeVar("R")


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def read_password() -> str:
    """``ONAGAWA_PASSWORD``, else a hidden prompt; never a command-line option (``ps``, shell history)."""
    password = os.environ.get(ENV_PASSWORD)
    if password:
        return password
    if not stdin_is_terminal():
        # A prompt on a pipe would read the password from whatever is piped in, or hang.
        raise CliError(f"パスワードを {ENV_PASSWORD} で指定してください / set {ENV_PASSWORD} (no terminal to ask on)")
    value: str = click.prompt("パスワード / password", hide_input=True, err=True)
    return value


@dataclasses.dataclass
class Session:
    """The root context's ``obj``: the password source, and the client the root group builds."""

    password: Callable[[], str] = read_password
    client: ApiClient | None = None


def pass_client(command: Callable[Concatenate[ApiClient, P], R]) -> Callable[P, R]:
    """Hand the command the root group's :class:`ApiClient` as its first argument."""

    @functools.wraps(command)
    def with_client(*args: P.args, **kwargs: P.kwargs) -> R:
        session = click.get_current_context().find_object(Session)
        if session is None or session.client is None:
            raise RuntimeError("a command ran without the root group: no API client")
        return command(session.client, *args, **kwargs)

    return with_client


class OrderedGroup(click.Group):
    """Lists its commands in the order they were added (the order of the work), not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)
