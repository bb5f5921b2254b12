"""``intake users``: the people who sign in to the review UI."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from intake.service.db import unit_of_work
from intake.service.users import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    _check_role,
    add_user,
    list_users,
    set_disabled,
    set_password,
)

__all__ = ["users_app"]

users_app = typer.Typer(no_args_is_help=True, help="Review-UI users: CSRs and admins.")


def _sm():  # type: ignore[no-untyped-def]
    from intake.entry.bootstrap import load_settings, open_ledger  # start-up time: the service stack

    return open_ledger(load_settings())


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(ROLES)}")] = "csr",
    password: Annotated[Optional[str], typer.Option(
        help=f"at least {MIN_PASSWORD_LENGTH} characters; prompted (hidden, confirmed) when omitted")] = None,
) -> None:
    """Create a user who can sign in to the review UI."""
    _check_role(role)  # say so before asking for a password
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with unit_of_work(_sm()) as s:
        row = add_user(s, name, role, password)
        sys.stdout.write(f"user {row.name!r} added with role {row.role}\n")


@users_app.command("list")
def users_list() -> None:
    """List users, their role and whether they are disabled."""
    with _sm()() as s:
        rows = list_users(s)
        for u in rows:
            state = "disabled" if u.disabled_at else "active"
            last = u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never"
            sys.stdout.write(f"{u.name:<24} {u.role:<6} {state:<9} last login {last}\n")
        sys.stdout.write(f"{len(rows)} user(s)\n")


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Disable a user: they can no longer sign in and their sessions end."""
    with unit_of_work(_sm()) as s:
        set_disabled(s, name, True)
    sys.stdout.write(f"user {name!r} disabled\n")


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Enable a disabled user again."""
    with unit_of_work(_sm()) as s:
        set_disabled(s, name, False)
    sys.stdout.write(f"user {name!r} enabled\n")


@users_app.command("passwd")
def users_passwd(
    name: str,
    password: Annotated[Optional[str], typer.Option(help="prompted (hidden, confirmed) when omitted")] = None,
) -> None:
    """Set a user's password (their sessions end)."""
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with unit_of_work(_sm()) as s:
        set_password(s, name, password)
    sys.stdout.write(f"password of {name!r} changed\n")
