"""The leaderboards' invariants (``scores``): the all-time community boards of points and minutes == the ledger's
earnings and the attendances' minutes (``community_minutes``, left by ``attendance.py``), and each board's month,
year and all-time totals agree."""
from __future__ import annotations

from collections import defaultdict

from infra.proof.invariants.ledger import NOT_EARNINGS
from infra.proof.invariants.tables import _n


class ScoreChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def scores(self) -> None:
        boards: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for score in self.d["scores"]:
            parts = score.board.split("#")
            if len(parts) != 4:
                self.fail("scores", f"scores {score.board}", "not a <metric>#<scope>#<id>#<period> board")
                continue
            metric, scope, scope_id, period = parts
            kind = "all" if period == "all" else ("year" if len(period) == 4 else "month")
            boards[(metric, scope, scope_id, score.user_id)][kind] += _n(score.score)
        points: dict[tuple[str, str], int] = defaultdict(int)
        for entry in self.d["ledger"]:
            if entry.kind not in NOT_EARNINGS and entry.community_id:
                points[(entry.community_id, entry.user_id)] += _n(entry.amount)
        expected = {("points", c, u): n for (c, u), n in points.items() if n}
        expected.update({("minutes", c, u): n for (c, u), n in self.community_minutes.items() if n})
        actual = {(metric, scope_id, user): sums.get("all", 0)
                  for (metric, scope, scope_id, user), sums in boards.items() if scope == "community"}
        for key in sorted(set(expected) | {k for k, v in actual.items() if v}):
            if expected.get(key, 0) != actual.get(key, 0):
                metric, community_id, user_id = key
                self.fail("scores", f"scores {metric}#community#{community_id}#all/{user_id}",
                          f"{actual.get(key, 0)} != the {'ledger' if metric == 'points' else 'attendances'}' "
                          f"{expected.get(key, 0)}")
        for (metric, scope, scope_id, user_id), sums in sorted(boards.items()):
            if not sums.get("all", 0) == sums.get("year", 0) == sums.get("month", 0):
                self.fail("scores", f"scores {metric}#{scope}#{scope_id}/{user_id}",
                          f"month {sums.get('month', 0)}, year {sums.get('year', 0)} and all-time {sums.get('all', 0)} "
                          "totals differ")
