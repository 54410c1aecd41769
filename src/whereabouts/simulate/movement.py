"""True movement: a unit's timeline of keypoints, built trip by trip along the roads.

Between keypoints a unit moves in a straight line at constant speed, so its true position
at any instant is a linear interpolation (numpy) — sensors sample it without a loop.
"""

from __future__ import annotations

import numpy as np

from whereabouts.simulate.geography import Geography


class Timeline:
    """Keypoints (t, x, y) of one unit, appended in time order."""

    def __init__(self, t: float, x: float, y: float) -> None:
        self._t: list[np.ndarray] = [np.array([t])]
        self._x: list[np.ndarray] = [np.array([x])]
        self._y: list[np.ndarray] = [np.array([y])]
        self.t, self.x, self.y = t, x, y

    def _append(self, ts: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
        self._t.append(ts)
        self._x.append(xs)
        self._y.append(ys)
        self.t, self.x, self.y = float(ts[-1]), float(xs[-1]), float(ys[-1])

    def wait_until(self, t: float) -> None:
        """Stay put until t (no-op when t has passed)."""
        if t > self.t:
            self._append(np.array([t]), np.array([self.x]), np.array([self.y]))

    def drive_to(
        self, geo: Geography, x: float, y: float, *, until: float | None = None, pace: float = 1.0
    ) -> float:
        """Drive along the roads to (x, y); stop where the unit is at `until`. Returns arrival.

        `pace` (at most 1) scales the road speeds: traffic and driving differ from trip to
        trip, so two cars that happen onto one road do not stay side by side along it.
        """
        ts, xs, ys = geo.roads.route(self.x, self.y, x, y, self.t)
        ts = self.t + (ts - self.t) / pace
        if until is not None and ts[-1] > until:
            keep = ts < until
            cx, cy = np.interp(until, ts, xs), np.interp(until, ts, ys)
            ts = np.append(ts[keep], until)
            xs, ys = np.append(xs[keep], cx), np.append(ys[keep], cy)
        self._append(ts[1:], xs[1:], ys[1:])
        return self.t

    def patrol_until(
        self, geo: Geography, t: float, rng: np.random.Generator, centre: tuple[float, float]
    ) -> None:
        """Patrol around `centre` (drive, park up a few minutes, drive on) until t."""
        while self.t < t:  # a loop per trip
            px, py = geo.random_points(rng, 1, urban_share=0.8, near=centre, spread=2500)[0]
            self.drive_to(geo, float(px), float(py), until=t)
            self.wait_until(min(t, self.t + float(rng.uniform(120, 900))))

    def patrol_among(
        self,
        geo: Geography,
        t: float,
        rng: np.random.Generator,
        points: np.ndarray,
        weights: np.ndarray,
    ) -> None:
        """Patrol a beat until t: drive to one of its `points` (k × 2, chosen by `weights`),
        park up a few minutes a few metres off it, drive on."""
        while self.t < t:  # a loop per trip
            k = int(rng.choice(len(points), p=weights))
            px, py = points[k] + rng.normal(0, 20, 2)
            self.drive_to(geo, float(px), float(py), until=t, pace=float(rng.uniform(0.7, 1.0)))
            self.wait_until(min(t, self.t + float(rng.uniform(120, 900))))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All keypoints: times (strictly increasing), xs, ys."""
        t = np.concatenate(self._t)
        x = np.concatenate(self._x)
        y = np.concatenate(self._y)
        keep = np.concatenate([[True], np.diff(t) > 1e-6])
        return t[keep], x[keep], y[keep]


def position(
    t: np.ndarray, kt: np.ndarray, kx: np.ndarray, ky: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """True positions at times t on the timeline (kt, kx, ky)."""
    return np.interp(t, kt, kx), np.interp(t, kt, ky)


def velocity(
    t: np.ndarray, kt: np.ndarray, kx: np.ndarray, ky: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """True speed (m/s) and compass heading (degrees; NaN when still) at times t."""
    seg = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, max(len(kt) - 2, 0))
    if len(kt) < 2:
        return np.zeros(len(t)), np.full(len(t), np.nan)
    dt = kt[seg + 1] - kt[seg]
    vx = (kx[seg + 1] - kx[seg]) / dt
    vy = (ky[seg + 1] - ky[seg]) / dt
    speed = np.hypot(vx, vy)
    heading = np.where(speed > 0.5, np.degrees(np.arctan2(vx, vy)) % 360, np.nan)
    return speed, heading


__all__ = ["Timeline", "position", "velocity"]
