"""The leaderboards' invariants. ``scores``: for every active account, the all-time community boards of points and
minutes == the ledger's earnings and the attendances' minutes (``community_minutes``, left by ``attendance.py``),
and each board's month, year and all-time totals agree; every item is keyed by a community's board (a grid's board
is the ``grid_board`` the same item carries). ``score-copies``: the scored items of the current periods (the only
ones a leaderboard can be asked for) carry their member's grid board and nickname as the user item has them now, and a
closed account stands on none of them (注销 took it off: its ledger stays, so its totals are not compared)."""
from __future__ import annotations

from collections import defaultdict

from infra.proof.invariants.ledger import NOT_EARNINGS
from infra.proof.invariants.tables import _n
from tongxin.domain.points import PERIODS, period_key


class ScoreChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def scores(self) -> None:
        current = {period_key(period, self.now) for period in PERIODS}  # the periods a leaderboard can be asked for
        boards: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for score in self.d["scores"]:
            parts = score.board.split("#")
            if len(parts) != 4 or parts[1] != "community":
                self.fail("scores", f"scores {score.board}", "not a <metric>#community#<id>#<period> board")
                continue
            metric, _, community_id, period = parts
            user = self.users.get(score.user_id)
            active = user is not None and user.status == "active"
            if period in current:
                self._copies(score, metric, period, user, active)
            if active:
                kind = "all" if period == "all" else ("year" if len(period) == 4 else "month")
                boards[(metric, community_id, score.user_id)][kind] += _n(score.score)
        points: dict[tuple[str, str], int] = defaultdict(int)
        for entry in self.d["ledger"]:
            if entry.kind not in NOT_EARNINGS and entry.community_id:
                points[(entry.community_id, entry.user_id)] += _n(entry.amount)
        expected = {("points", c, u): n for (c, u), n in points.items() if n}
        expected.update({("minutes", c, u): n for (c, u), n in self.community_minutes.items() if n})
        expected = {key: n for key, n in expected.items() if self._active(key[2])}
        actual = {key: sums.get("all", 0) for key, sums in boards.items()}
        for key in sorted(set(expected) | {k for k, v in actual.items() if v}):
            if expected.get(key, 0) != actual.get(key, 0):
                metric, community_id, user_id = key
                self.fail("scores", f"scores {metric}#community#{community_id}#all/{user_id}",
                          f"{actual.get(key, 0)} != the {'ledger' if metric == 'points' else 'attendances'}' "
                          f"{expected.get(key, 0)}")
        for (metric, community_id, user_id), sums in sorted(boards.items()):
            if not sums.get("all", 0) == sums.get("year", 0) == sums.get("month", 0):
                self.fail("scores", f"scores {metric}#community#{community_id}/{user_id}",
                          f"month {sums.get('month', 0)}, year {sums.get('year', 0)} and all-time {sums.get('all', 0)} "
                          "totals differ")

    def _active(self, user_id: str) -> bool:
        user = self.users.get(user_id)
        return user is not None and user.status == "active"

    def _copies(self, score, metric: str, period: str, user, active: bool) -> None:
        where = f"scores {score.board}/{score.user_id}"
        if not _n(score.score):
            return  # on no board (a score netted to 0, or none yet): its copies are set by the next credit
        if not active:
            self.fail("score-copies", where, "a closed account still stands on a current board")
            return
        grid_board = f"{metric}#grid#{user.grid_id}#{period}" if user.grid_id else None
        if score.grid_board != grid_board:
            self.fail("score-copies", where, f"on the grid board {score.grid_board}, the member lives in {grid_board}")
        if (score.nickname or None) != (user.nickname or None):
            self.fail("score-copies", where, f"nickname {score.nickname!r} != the member's {user.nickname!r}")
