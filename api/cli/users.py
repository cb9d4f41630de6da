"""``bess-twin users add|list|remove|passwd`` and ``bess-twin devices add-key``: the API's users and device keys.

Passwords are read from a hidden prompt, or from ``BESS_TWIN_NEW_PASSWORD``
for scripts; never from the command line. Exit codes: 0 done, 2 bad input.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.cli.output import EXIT_BAD_INPUT, console, fail

if TYPE_CHECKING:
    from api.auth.store import UserStore

users_app = typer.Typer(help="Users of the REST API: roles admin, operator, trader, viewer; per-site access", no_args_is_help=True)
devices_app = typer.Typer(help="API keys of REST telemetry devices", no_args_is_help=True)


def _store() -> UserStore:
    from api.auth.store import UserStore
    from api.settings import ApiSettings

    return UserStore(ApiSettings().users_db)


def _password(confirm: bool = True) -> str:
    env = os.environ.get("BESS_TWIN_NEW_PASSWORD")
    if env is not None:
        return env
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=confirm))


@users_app.command("add")
def add(
    username: str,
    role: Annotated[str, typer.Option(help="admin, operator, trader or viewer")] = "viewer",
    sites: Annotated[str, typer.Option(help="Comma-separated site ids the user may see; * for all")] = "",
) -> None:
    """Create a user (password from a hidden prompt or BESS_TWIN_NEW_PASSWORD)."""
    site_list = [s.strip() for s in sites.split(",") if s.strip()]
    if role != "admin" and not site_list:
        raise fail(f"--sites is empty: a {role} sees only the sites given to it; pass --sites a,b or --sites '*'", EXIT_BAD_INPUT)
    try:
        user = _store().add(username, _password(), role, site_list or ["*"])
    except ValueError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    console.print(f"added {user.username} ({user.role}; sites {', '.join(user.sites)})", highlight=False)


@users_app.command("list")
def list_users() -> None:
    """Every user with role and sites."""
    table = Table("user", "role", "sites")
    for u in _store().list():
        table.add_row(u.username, u.role, ", ".join(u.sites))
    console.print(table)


@users_app.command("remove")
def remove(username: str) -> None:
    """Delete a user; their tokens stop working at once."""
    if not _store().remove(username):
        raise fail(f"no user {username!r}; see `bess-twin users list`", EXIT_BAD_INPUT)
    console.print(f"removed {username}")


@users_app.command("passwd")
def passwd(username: str) -> None:
    """Set a new password."""
    try:
        ok = _store().set_password(username, _password())
    except ValueError as err:
        raise fail(str(err), EXIT_BAD_INPUT) from None
    if not ok:
        raise fail(f"no user {username!r}; see `bess-twin users list`", EXIT_BAD_INPUT)
    console.print(f"password of {username} changed")


@devices_app.command("add-key")
def add_key(site_id: str) -> None:
    """A new API key for a REST telemetry device of SITE_ID; printed once, stored hashed."""
    key = _store().add_device_key(site_id)
    console.print(f"API key for a telemetry device of {site_id} (shown once, keep it secret):")
    console.print(key, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``users`` and ``devices`` to ``app``."""
    app.add_typer(users_app, name="users")
    app.add_typer(devices_app, name="devices")
