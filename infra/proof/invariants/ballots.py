"""微实事 票选's invariants: ``ballot-count`` (for every round, each project's sharded vote counters, shard by shard,
== the stored ballots of that shard choosing it; the turnout's shards == the ballots of each shard; no counter of a
round or project without the ballots to match), ``ballot-choice`` (a ballot's projects are distinct approved projects
of its round and community, its shard the voter's) and ``round-results`` (a finalised round: each approved project's
``votes`` == its counters, ranks 1..n, ``selected_count`` == the projects selected, the round off the finalisation
index)."""
from __future__ import annotations

from collections import Counter, defaultdict

from infra.proof.invariants.tables import _n, _raw_number
from tongxin.domain import ballots as rules


class BallotChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def ballots(self) -> None:
        rounds = {r.id: r for r in self.d.get("project_rounds", [])}
        projects = {p.id: p for p in self.d.get("round_projects", [])}
        by_round: dict[str, list] = defaultdict(list)
        for ballot in self.d.get("ballots", []):
            by_round[ballot.round_id].append(ballot)
        expected: Counter = Counter()  # counter key → the count the ballots make
        for round_id, ballots in by_round.items():
            rnd = rounds.get(round_id)
            for ballot in ballots:
                where = f"ballots {round_id}/{ballot.user_id}"
                shard = _n(ballot.shard)
                if shard != rules.shard_of(ballot.user_id):
                    self.fail("ballot-choice", where, f"shard {shard}, the voter's is {rules.shard_of(ballot.user_id)}")
                if rnd is None:
                    self.fail("ballot-choice", where, "ballot of a round that does not exist")
                elif ballot.community_id != rnd.community_id:
                    self.fail("ballot-choice", where, f"community {ballot.community_id} != the round's")
                ids = list(ballot.project_ids or [])
                if not ids or len(set(ids)) != len(ids):
                    self.fail("ballot-choice", where, f"choice empty or repeated: {ids}")
                for pid in ids:
                    project = projects.get(pid)
                    if project is None or project.round_id != round_id or project.status != "approved":
                        self.fail("ballot-choice", where, f"{pid} is not an approved project of the round")
                    expected[rules.votes_key(round_id, pid, shard)] += 1
                expected[rules.turnout_key(round_id, shard)] += 1
        stored = {key: _raw_number(item, "n") for key, item in self.counters.items()
                  if key.startswith(("round-votes#", "round-turnout#"))}
        for key in set(expected) | set(stored):
            if expected.get(key, 0) != stored.get(key, 0):
                self.fail("ballot-count", f"counters {key}",
                          f"{stored.get(key, 0)} counted, {expected.get(key, 0)} ballots")
        self.round_results(rounds, projects, stored)

    def round_results(self, rounds: dict, projects: dict, stored: dict[str, int]) -> None:
        approved: dict[str, list] = defaultdict(list)
        for project in projects.values():
            if project.status == "approved":
                approved[project.round_id].append(project)
        for rnd in rounds.values():
            if rnd.results_final_at is None:
                continue
            where = f"project_rounds {rnd.id}"
            if rnd.finalise_due is not None or rnd.finalise_shard is not None:
                self.fail("round-results", where, "final but still on the finalisation index")
            mine = approved.get(rnd.id, [])
            for project in mine:
                counted = sum(stored.get(rules.votes_key(rnd.id, project.id, s), 0) for s in range(rules.VOTE_SHARDS))
                if project.votes is None or _n(project.votes) != counted:
                    self.fail("round-results", f"round_projects {project.id}",
                              f"votes {project.votes}, the counters say {counted}")
            ranks = sorted(_n(p.rank) for p in mine)
            if ranks != list(range(1, len(mine) + 1)):
                self.fail("round-results", where, f"ranks {ranks}")
            selected = sum(1 for p in mine if p.selected)
            if _n(rnd.selected_count) != selected:
                self.fail("round-results", where, f"selected_count {rnd.selected_count}, {selected} selected")
