"""微实事 rounds' invariants (usecases/project_rounds.py, round_delivery.py): ``round-counts`` (a round's
``proposed_count`` == its projects, ``approved_count`` == its approved ones and ≤ 30, ``done_count`` == its selected
projects done; each resident's proposal counter, while it has not expired, == their projects in the round and ≤ 3),
``round-project`` (a project of an existing round of the same community, the round's dates and budget copied as the
round has them, its index keys what its status and proposer make, approved ⇔ ``approved_at``, cost within the
budget, the timeline as long as ``progress_count``, done only if selected and at 100 %, no ``votes``/``selected``
before the round's results are final), ``round-rating`` (a project's ``ratings_count``/``ratings_sum`` == its rating
items, each 1..5, rated only once done) and ``round-index`` (a round whose results are not final is on the
finalisation index at its ``voting_until``)."""
from __future__ import annotations

from collections import Counter, defaultdict

from infra.proof.invariants.tables import _n, _raw_number
from tongxin.domain import project_rounds as rules


class RoundChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def project_rounds(self) -> None:
        rounds = {r.id: r for r in self.d.get("project_rounds", [])}
        projects = list(self.d.get("round_projects", []))
        by_round: dict[str, list] = defaultdict(list)
        for project in projects:
            by_round[project.round_id].append(project)
            self.round_project(project, rounds.get(project.round_id))
        for rnd in rounds.values():
            mine = by_round.get(rnd.id, [])
            where = f"project_rounds {rnd.id}"
            approved = [p for p in mine if p.status == rules.APPROVED]
            done = [p for p in mine if p.selected and p.done_at is not None]
            for name, stored, counted in (("proposed_count", rnd.proposed_count, len(mine)),
                                          ("approved_count", rnd.approved_count, len(approved)),
                                          ("done_count", rnd.done_count, len(done))):
                if _n(stored) != counted:
                    self.fail("round-counts", where, f"{name} {_n(stored)}, the projects make {counted}")
            if len(approved) > rules.MAX_APPROVED:
                self.fail("round-counts", where, f"{len(approved)} approved, more than {rules.MAX_APPROVED}")
            if rnd.results_final_at is None and (rnd.finalise_shard != "r" or rnd.finalise_due != rnd.voting_until):
                self.fail("round-index", where, "results not final and not on the finalisation index at voting_until")
        self.round_proposal_counters(by_round)
        self.round_ratings({p.id: p for p in projects})

    def round_project(self, project, rnd) -> None:
        where = f"round_projects {project.id}"
        if rnd is None:
            self.fail("round-project", where, f"of round {project.round_id}, which does not exist")
            return
        if project.community_id != rnd.community_id:
            self.fail("round-project", where, f"community {project.community_id} != the round's")
        copies = (("round_budget_yuan", project.round_budget_yuan, rnd.budget_yuan),
                  ("round_voting_from", project.round_voting_from, rnd.voting_from),
                  ("round_voting_until", project.round_voting_until, rnd.voting_until),
                  ("round_publicity_until", project.round_publicity_until, rnd.publicity_until))
        for name, copied, actual in copies:
            if copied != actual:
                self.fail("round-project", where, f"{name} {copied} != the round's {actual}")
        if project.status not in rules.STATUSES or project.status_key != rules.status_key(rnd.id, project.status):
            self.fail("round-project", where, f"status {project.status} on the list {project.status_key}")
        if project.proposer_key != rules.proposer_key(rnd.id, project.proposer_id):
            self.fail("round-project", where, f"proposer list {project.proposer_key}")
        if (project.status == rules.APPROVED) != (project.approved_at is not None):
            self.fail("round-project", where, f"{project.status} with approved_at {project.approved_at}")
        if not 1 <= _n(project.cost_yuan) <= _n(rnd.budget_yuan):
            self.fail("round-project", where, f"cost {_n(project.cost_yuan)} outside 1..{_n(rnd.budget_yuan)}")
        if len(project.timeline or []) != _n(project.progress_count):
            self.fail("round-project", where,
                      f"{len(project.timeline or [])} steps, progress_count {_n(project.progress_count)}")
        if project.done_at is not None and (not project.selected or _n(project.percent) != 100):
            self.fail("round-project", where, f"done, selected {project.selected}, percent {_n(project.percent)}")
        if rnd.results_final_at is None and (project.selected is not None or project.votes is not None):
            self.fail("round-project", where, "votes or selected before the round's results are final")

    def round_proposal_counters(self, by_round: dict[str, list]) -> None:
        proposed = Counter((p.round_id, p.proposer_id) for projects in by_round.values() for p in projects)
        for key, item in self.counters.items():
            if not key.startswith("round-proposals#"):
                continue
            expires = _raw_number(item, "expires_at")
            if expires and expires <= self.now.timestamp():
                continue  # expired: a period counter no longer read (DynamoDB's TTL deletes it lazily)
            _, round_id, user_id = key.split("#", 2)
            stored = _raw_number(item, "n")
            if stored != proposed[(round_id, user_id)] or stored > rules.PROPOSALS_PER_RESIDENT:
                self.fail("round-counts", f"counters {key}",
                          f"{stored} counted, {proposed[(round_id, user_id)]} proposals (at most "
                          f"{rules.PROPOSALS_PER_RESIDENT})")

    def round_ratings(self, projects: dict) -> None:
        ratings: dict[str, list] = defaultdict(list)
        for rating in self.d.get("round_project_ratings", []):
            ratings[rating.project_id].append(rating)
            if not rules.RATING_MIN <= _n(rating.rating) <= rules.RATING_MAX:
                self.fail("round-rating", f"round_project_ratings {rating.project_id}/{rating.user_id}",
                          f"rating {_n(rating.rating)}")
        for project_id in set(ratings) | set(projects):
            project, given = projects.get(project_id), ratings.get(project_id, [])
            where = f"round_projects {project_id}"
            if project is None:
                self.fail("round-rating", where, f"{len(given)} ratings of a project that does not exist")
                continue
            if _n(project.ratings_count) != len(given) or _n(project.ratings_sum) != sum(_n(r.rating) for r in given):
                self.fail("round-rating", where, f"ratings_count {_n(project.ratings_count)} / sum "
                                                 f"{_n(project.ratings_sum)}, the ratings make {len(given)} / "
                                                 f"{sum(_n(r.rating) for r in given)}")
            if given and project.done_at is None:
                self.fail("round-rating", where, "rated before it is done")
