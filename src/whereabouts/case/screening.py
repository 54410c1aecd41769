"""Screening authorities: analysts may look at all pairs in a scope only under one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from whereabouts.case import roles
from whereabouts.case.access import AccessMixin
from whereabouts.case.base import UserLike, _name
from whereabouts.case.db import as_utc, utcnow
from whereabouts.case.models import Screening
from whereabouts.errors import ParameterError, ScopeError


@dataclass(frozen=True)
class ScreeningAuthority:
    """Authority to screen all pairs within a scope ("force", "team:T1") over a period."""

    ref: str
    scope: str
    start: datetime
    end: datetime
    purpose: str
    authorised_by: str
    expires_at: datetime


class ScreeningMixin(AccessMixin):
    """Grant and check screening authorities."""

    def grant_screening(
        self,
        ref: str,
        scope: str,
        start: datetime | str,
        end: datetime | str,
        purpose: str,
        *,
        authorised_by: str,
        actor: UserLike,
        valid_days: int = 90,
    ) -> ScreeningAuthority:
        """Record a screening authority (a supervisor authorises it; it expires)."""
        t0, t1 = as_utc(start), as_utc(end)
        if t1 <= t0 or not purpose.strip() or not scope.strip():
            raise ParameterError(
                "a screening authority needs a scope, a purpose and a period that ends after "
                "it starts",
                hint="e.g. --scope team:T1 --from 2024-01-01 --to 2024-04-01 --purpose …",
            )
        with self._tx() as s:
            who = _name(actor)
            self._user(s, who)
            auth = self._user(s, authorised_by, "supervisor")
            roles.check_role(authorised_by, auth.role, "screening.authorise", self.label)
            if s.get(Screening, ref) is not None:
                raise ParameterError(f"screening authority {ref} exists", hint="choose another")
            now = utcnow()
            row = Screening(
                ref=ref,
                scope=scope,
                period_start=t0,
                period_end=t1,
                purpose=purpose,
                authorised_by=authorised_by,
                granted_by=who,
                granted_at=now,
                expires_at=now + timedelta(days=valid_days),
            )
            s.add(row)
            self._audit(
                s,
                who,
                "screening.grant",
                None,
                screening=ref,
                scope=scope,
                start=t0,
                end=t1,
                purpose=purpose,
                authorised_by=authorised_by,
                expires_at=row.expires_at,
            )
        return _screening(row)

    def get_screening(self, ref: str) -> ScreeningAuthority:
        """The screening authority `ref` (ScopeError naming how to grant one if there is none)."""
        with self._tx() as s:
            row = s.get(Screening, ref)
            if row is None:
                raise ScopeError(
                    f"no screening authority {ref}",
                    hint=f"a supervisor grants one: `whereabouts case screening {self.label} "
                    f"{ref} --scope force --from … --to … --purpose … --authorised-by "
                    "SUPERVISOR`",
                )
            return _screening(row)

    def require_screening(
        self,
        user: UserLike,
        ref: str,
        scope: str,
        start: datetime | str,
        end: datetime | str,
    ) -> ScreeningAuthority:
        """Check that `user` may screen `scope` over the dates under authority `ref`, and
        audit the screening read."""
        t0, t1 = as_utc(start), as_utc(end)
        with self._tx() as s:
            who = _name(user)
            self._require_role(s, who, "screening.run")
            row = s.get(Screening, ref)
            hint = (
                f"ask a supervisor to grant one: `whereabouts case screening {self.label} REF "
                "--scope SCOPE --from … --to … --purpose … --authorised-by SUPERVISOR`"
            )
            if row is None:
                raise ScopeError(f"no screening authority {ref}", hint=hint)
            if row.revoked_at is not None or row.expires_at < utcnow():
                raise ScopeError(f"screening authority {ref} has expired or was revoked", hint=hint)
            if row.scope not in (scope, "force"):
                raise ScopeError(
                    f"screening authority {ref} covers {row.scope!r}, not {scope!r}", hint=hint
                )
            if t0 < row.period_start or t1 > row.period_end:
                raise ScopeError(
                    f"screening authority {ref} covers {row.period_start:%Y-%m-%d}–"
                    f"{row.period_end:%Y-%m-%d} only",
                    hint=hint,
                )
            self._audit(
                s,
                who,
                "screening.read",
                None,
                screening=ref,
                scope=scope,
                start=t0,
                end=t1,
                purpose=row.purpose,
            )
            return _screening(row)


def _screening(row: Screening) -> ScreeningAuthority:
    return ScreeningAuthority(
        row.ref,
        row.scope,
        row.period_start,
        row.period_end,
        row.purpose,
        row.authorised_by,
        row.expires_at,
    )
