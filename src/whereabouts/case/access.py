"""Users and permissions: who acts, with which role, and what that role may do."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from whereabouts.case import roles
from whereabouts.case.base import StoreBase, UserInfo, UserLike, _name
from whereabouts.case.db import utcnow
from whereabouts.case.models import CaseMember, User, WebSession
from whereabouts.case.users import (
    acting_name,
    check_password,
    check_username,
    hash_password,
    verify_password,
)
from whereabouts.errors import ParameterError, PermissionDenied


class AccessMixin(StoreBase):
    """Users (argon2id passwords), roles and case membership."""

    # ---------------------------------------------------------------- users
    def add_user(
        self, username: str, password: str | None, role: str, *, actor: UserLike | None = None
    ) -> UserInfo:
        """Add a user; `actor` must be an administrator, except for the very first one."""
        check_username(username)
        roles.check_known_role(role)
        if password is not None:
            check_password(password, username)  # refuse before any lock is taken
        with self._tx() as s:
            admins = s.scalar(
                sa.select(sa.func.count()).select_from(User).where(User.role == "administrator")
            )
            by = _name(actor) if actor is not None else username
            if admins or role != "administrator":
                if actor is None:
                    raise PermissionDenied(
                        "adding a user needs an administrator",
                        hint="run as an administrator with --user NAME",
                    )
                self._require_role(s, by, "user.manage")
            if s.get(User, username) is not None:
                raise ParameterError(
                    f"user {username!r} already exists",
                    hint="choose another name, or change the role with `whereabouts user role`",
                )
            hashed = hash_password(password, username) if password is not None else None
            s.add(
                User(
                    username=username,
                    role=role,
                    password_hash=hashed,
                    active=True,
                    os_default=False,
                    created_at=utcnow(),
                    created_by=by,
                )
            )
            self._audit(s, by, "user.add", None, username=username, role=role)
        return UserInfo(username, role)

    def set_role(self, username: str, role: str, *, actor: UserLike) -> UserInfo:
        """Change a user's role (administrators only)."""
        roles.check_known_role(role)
        with self._tx() as s:
            self._require_role(s, _name(actor), "user.manage")
            user = self._user(s, username)
            old, user.role = user.role, role
            self._audit(s, _name(actor), "user.role", None, username=username, old=old, new=role)
        return UserInfo(username, role)

    def get_user(self, name: str) -> UserInfo:
        """The user called `name` (PermissionDenied when unknown or deactivated)."""
        with self._tx() as s:
            user = self._user(s, name)
            return UserInfo(user.username, user.role, user.os_default)

    def list_users(self) -> list[UserInfo]:
        """Every user, by name."""
        with self._tx() as s:
            rows = s.scalars(sa.select(User).order_by(User.username)).all()
            return [UserInfo(u.username, u.role, u.os_default) for u in rows]

    def authenticate(self, username: str, password: str, **detail: str) -> UserInfo:
        """Check a password; PermissionDenied (without saying which part was wrong) if not.

        `detail` goes into the audit entry (e.g. via="command line", os_user=…).
        """
        with self._tx() as s:
            user = s.get(User, username)
            if user is None or not user.active or not verify_password(user.password_hash, password):
                self._audit(s, username, "user.login_failed", None, **detail)
                failed = True
            else:
                self._audit(s, username, "user.login", None, **detail)
                failed = False
                info = UserInfo(user.username, user.role, user.os_default)
        if failed:
            raise PermissionDenied(
                "user name or password not recognised",
                hint="check both; an administrator can set a new one with "
                f"`whereabouts user set-password {self.label} {username}`",
            )
        return info

    def set_password(self, username: str, password: str, *, actor: UserLike) -> None:
        """Set a password: the user themself or an administrator. The user's web sessions
        end with it (a password is reset when it may be known to someone else)."""
        hashed = hash_password(password, username)
        with self._tx() as s:
            if _name(actor) != username:
                self._require_role(s, _name(actor), "user.manage")
            self._user(s, username).password_hash = hashed
            ended = s.execute(sa.delete(WebSession).where(WebSession.username == username))
            self._audit(
                s,
                _name(actor),
                "user.password",
                None,
                username=username,
                sessions_ended=int(ended.rowcount or 0),  # type: ignore[attr-defined]
            )

    def current_user(self, name: str | None = None) -> UserInfo:
        """Who the command line acts as (--user, WHEREABOUTS_USER, or the OS user).

        On the embedded default an unknown OS user is created as an investigator who may
        self-authorise a demo case; `notice` says so. A shared server refuses instead.
        """
        username, from_os = acting_name(name)
        with self._tx() as s:
            user = s.get(User, username)
            if user is not None:
                if not user.active:
                    self._user(s, username)  # raises
                return UserInfo(user.username, user.role, user.os_default)
            if not (from_os and self.embedded):
                raise PermissionDenied(
                    f"unknown user {username!r}",
                    hint=f"ask an administrator to add you: `whereabouts user add {self.label} "
                    f"{username} --role ROLE`",
                )
            s.add(
                User(
                    username=username,
                    role="investigator",
                    password_hash=None,
                    active=True,
                    os_default=True,
                    created_at=utcnow(),
                    created_by=username,
                )
            )
            self._audit(
                s, username, "user.auto_create", None, username=username, role="investigator"
            )
        return UserInfo(
            username,
            "investigator",
            True,
            notice=f"created local user {username!r} as an investigator (single-user embedded "
            f"store); they may self-authorise demo cases only, and need "
            f"`whereabouts user set-password {self.label}` before signing in to the web app",
        )

    def _user(self, s: Session, name: str, role: str = "ROLE") -> User:
        user = s.get(User, name)
        if user is None or not user.active:
            raise PermissionDenied(
                f"unknown or deactivated user {name!r} in {self.label}",
                hint=f"an administrator adds them: `whereabouts user add {self.label} {name} "
                f"--role {role} --user ADMINISTRATOR`; `whereabouts user list {self.label}` "
                "shows who exists",
            )
        return user

    def _require_authoriser(self, s: Session, name: str) -> User:
        """The supervisor named to authorise something (not the acting user)."""
        user = self._user(s, name, "supervisor")
        roles.check_role(name, user.role, "case.authorise", self.label)
        return user

    # ---------------------------------------------------------------- permissions
    def require(self, user: UserLike, action: str, case_ref: str | None = None) -> UserInfo:
        """Raise PermissionDenied unless `user` may do `action` (in `case_ref`), naming who can."""
        with self._tx() as s:
            return self._require(s, _name(user), action, case_ref)

    def _require_role(self, s: Session, username: str, action: str) -> User:
        user = self._user(s, username)
        roles.check_role(username, user.role, action, self.label)
        return user

    def _require(self, s: Session, username: str, action: str, case_ref: str | None) -> UserInfo:
        user = self._require_role(s, username, action)
        if case_ref is not None and action in roles.CASE_ACTIONS:
            row = self._case_row(s, case_ref)
            member = s.get(CaseMember, (case_ref, username))
            if member is None:
                raise PermissionDenied(
                    f"user {username!r} is not assigned to case {case_ref}",
                    hint=f"ask the case's investigator ({row.opened_by}) or its authorising "
                    f"officer ({row.authorised_by}) to add you: "
                    f"`whereabouts case assign {self.label} {case_ref} {username}`",
                )
        return UserInfo(user.username, user.role, user.os_default)
