"""A role's command-line options and environment variables, made from the declared settings.

`role_command(app, ROLE)` turns `def ROLE(settings: Settings, given: frozenset[str]) -> None`
into a Typer command whose options are the settings declared for ROLE (alertflow/settings.py);
it parses them, builds the `Settings` and calls the function with it and the names of the
settings given explicitly (command line or environment), which `dev` needs to choose between
real and in-memory backends.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from alertflow.settings import Declared, Settings, for_role

RoleMain = Callable[[Settings, frozenset[str]], None]


def _parameters(role: str, item: Declared) -> list[inspect.Parameter]:
    """The Typer parameter(s) of one setting: one option, two for a repeatable setting."""
    option = item.option
    default = option.default_for(role, item.default)
    kind = str if option.parse else item.type
    if default is None:
        kind = kind | None
    if option.multiple:  # a repeatable option: its values (and default) are a list
        kind, default = list[str] | None, None if default is None else [default]
    help_text = option.role_help.get(role, option.help)
    declared = (typer.Argument(envvar=item.env, show_envvar=True, help=help_text)
                if option.argument else
                typer.Option(item.flag, envvar=item.env, show_envvar=True, help=help_text))
    params = [inspect.Parameter(
        item.name, inspect.Parameter.KEYWORD_ONLY,
        default=inspect.Parameter.empty if option.argument else default,
        annotation=Annotated[kind, declared],
    )]
    if option.repeatable:
        params.insert(0, inspect.Parameter(
            option.repeatable, inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[list[str] | None, typer.Option(
                "--" + option.repeatable.replace("_", "-"), help=option.repeatable_help,
                show_default=False)],
        ))
    return params


def _settings(role: str, ctx: typer.Context, values: dict[str, Any]) -> Settings:
    """`Settings` from the parsed options; an option left at None keeps the declared default."""
    fields: dict[str, Any] = {}
    for item in for_role(role):
        value = values[item.name]
        option = item.option
        if option.multiple:
            value = ",".join(value) if value else None
        if option.parse is not None and value is not None:
            repeated = values.get(option.repeatable or "") or ()
            try:
                value = option.parse(value, repeated)
            except ValueError as exc:
                hint = f"--{(option.repeatable or item.flag[2:]).replace('_', '-')}/{item.env}"
                raise typer.BadParameter(str(exc), ctx=ctx, param_hint=hint) from None
        if value is not None:
            fields[item.name] = value
    return Settings(**fields)


def _given(ctx: typer.Context, role: str) -> frozenset[str]:
    names = set()
    for item in for_role(role):
        source = ctx.get_parameter_source(item.name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            names.add(item.name)
    return frozenset(names)


def _role_function(role: str, main: RoleMain, skip_for_subcommands: bool = False) -> Any:
    def command(ctx: typer.Context, **values: Any) -> None:
        if skip_for_subcommands and ctx.invoked_subcommand is not None:
            return
        main(_settings(role, ctx, values), _given(ctx, role))

    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=typer.Context)
    params = [p for item in for_role(role) for p in _parameters(role, item)]
    command.__signature__ = inspect.Signature([context, *params])  # type: ignore[attr-defined]
    command.__doc__ = main.__doc__
    command.__name__ = role
    return command


def role_command(app: typer.Typer, role: str) -> Callable[[RoleMain], RoleMain]:
    """Register `main` as the command `role` of `app`, with the role's declared options."""

    def register(main: RoleMain) -> RoleMain:
        app.command(name=role)(_role_function(role, main))
        return main

    return register


def role_group(app: typer.Typer, role: str, main: RoleMain) -> typer.Typer:
    """Like `role_command`, for a role that also has subcommands (`alertflow push keygen`):
    `main` runs when the returned group is invoked without one."""
    group = typer.Typer(add_completion=False, help=main.__doc__)
    group.callback(invoke_without_command=True)(_role_function(role, main, True))
    app.add_typer(group, name=role)
    return group
