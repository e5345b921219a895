"""微实事 (participatory budgeting): a round (项目征集与票选轮次) of a community and the projects residents propose in
it, one table each, an index per list they serve. Ballots (A2) live in models/ballots.py; vote counts are sharded
CounterModel items (``round-votes#<round>#<project>#<shard>``, ``round-turnout#<round>#<shard>``) until the results
are final, then copied onto the projects."""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute,
                                 UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from .base import BaseModel


class ProjectRoundsByCommunity(GlobalSecondaryIndex):
    """The community's rounds, newest first (``GET /v1/project-rounds``: one Query a page)."""
    class Meta:
        index_name = "by_community"
        projection = AllProjection()
    community_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ProjectRoundsByFinaliseDue(GlobalSecondaryIndex):
    """Sparse: the rounds whose results are not final yet, by the end of their voting (``finalise_shard`` is the
    constant ``"r"``; both attributes are removed by the finalisation). The scheduler's step Queries
    ``finalise_due <= now`` instead of scanning."""
    class Meta:
        index_name = "by_finalise_due"
        projection = KeysOnlyProjection()
    finalise_shard = UnicodeAttribute(hash_key=True)
    finalise_due = UTCDateTimeAttribute(range_key=True)


class ProjectRoundsByNoticeDue(GlobalSecondaryIndex):
    """Sparse: the rounds with a message still to send to the community (``notice_step``: ``open`` when voting opens,
    then ``remind`` a day before it closes), by when (``notice_shard`` is the constant ``"r"``; both moved by the
    step that sends, removed after the last). The scheduler's step Queries ``notice_due <= now``."""
    class Meta:
        index_name = "by_notice_due"
        projection = KeysOnlyProjection()
    notice_shard = UnicodeAttribute(hash_key=True)
    notice_due = UTCDateTimeAttribute(range_key=True)


class ProjectRoundModel(BaseModel):
    """A 微实事 round: budget (whole yuan), ballot style (``approval``: up to ``max_choices`` projects; ``budget``:
    any projects whose costs fit the budget), the dates that derive its phase (domain/project_rounds.py), counters
    moved only by conditional atomic adds (``approved_count`` capped at MAX_APPROVED so a ballot's transaction stays
    within DynamoDB's 100 items), and after the vote ``selected_count`` / ``results_final_at`` written by the
    finalisation, ``done_count`` bumped by each selected project's completion. No version attribute: hot counters."""
    TABLE = "project_rounds"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "project_rounds"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    title = UnicodeAttribute()
    budget_yuan = NumberAttribute()
    style = UnicodeAttribute()  # approval | budget
    max_choices = NumberAttribute(null=True)  # approval: 1..10; budget: null
    proposals_until = UTCDateTimeAttribute()
    voting_from = UTCDateTimeAttribute()
    voting_until = UTCDateTimeAttribute()
    publicity_days = NumberAttribute(default=0)
    publicity_until = UTCDateTimeAttribute()  # voting_until + publicity_days: 公示 ends, implementation starts
    proposed_count = NumberAttribute(default=0)
    approved_count = NumberAttribute(default=0)
    selected_count = NumberAttribute(null=True)
    done_count = NumberAttribute(default=0)
    results_final_at = UTCDateTimeAttribute(null=True)
    # Sparse index by_finalise_due: present until the results are final.
    finalise_shard = UnicodeAttribute(null=True)
    finalise_due = UTCDateTimeAttribute(null=True)
    # Sparse index by_notice_due: the next message to the community (usecases/round_notices.py).
    notice_shard = UnicodeAttribute(null=True)
    notice_due = UTCDateTimeAttribute(null=True)
    notice_step = UnicodeAttribute(null=True)  # open | remind
    created_by = UnicodeAttribute()
    created_by_nickname = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_community = ProjectRoundsByCommunity()
    by_finalise_due = ProjectRoundsByFinaliseDue()
    by_notice_due = ProjectRoundsByNoticeDue()


class RoundProjectStep(MapAttribute):
    """One step of a selected project's delivery timeline: who (id, role, name as they were), when, what."""
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()  # progress | completed
    actor_id = UnicodeAttribute()
    actor_role = UnicodeAttribute()  # admin
    actor_nickname = UnicodeAttribute(null=True)
    percent = NumberAttribute(null=True)
    note = UnicodeAttribute(null=True)


class RoundProjectsByRound(GlobalSecondaryIndex):
    """A round's projects in proposal order (``GET /v1/project-rounds/{id}/projects`` for admins; the results and the
    ballot's validation read the approved ones)."""
    class Meta:
        index_name = "by_round"
        projection = AllProjection()
    round_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RoundProjectsByRoundStatus(GlobalSecondaryIndex):
    """A round's projects of one status (``<round>#<status>``), moved by the very update that reviews the project:
    members list the approved ones, admins ``?status=``; the ballot's validation reads ``<round>#approved``."""
    class Meta:
        index_name = "by_round_status"
        projection = AllProjection()
    status_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RoundProjectsByProposer(GlobalSecondaryIndex):
    """A resident's own proposals in a round (``<round>#<user>``, ≤ 3): shown to them whatever their status."""
    class Meta:
        index_name = "by_proposer"
        projection = AllProjection()
    proposer_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RoundProjectsByProposerUser(GlobalSecondaryIndex):
    """A person's proposals across rounds (keys only): the names 注销 erases (usecases/round_delivery)."""
    class Meta:
        index_name = "by_proposer_user"
        projection = KeysOnlyProjection()
    proposer_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RoundProjectModel(BaseModel):
    """A project proposed in a round: ``proposed → approved | rejected`` (reviewed once, before voting opens), the
    cost in whole yuan (an admin may correct it when approving), after the results ``votes`` / ``rank`` /
    ``selected`` written by the finalisation, and for a selected project its delivery (percent, timeline ≤ 50 steps
    capped by ``progress_count``, ``done_at``) and the residents' 验收 ratings as two atomic counters."""
    TABLE = "round_projects"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "round_projects"

    id = UnicodeAttribute(hash_key=True)
    round_id = UnicodeAttribute()
    community_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    cost_yuan = NumberAttribute()
    category = UnicodeAttribute()
    proposer_id = UnicodeAttribute()
    proposer_nickname = UnicodeAttribute(null=True)
    proposer_key = UnicodeAttribute()  # <round>#<user>
    # The round's settings a project's own steps need, copied at proposal (a round's dates and budget never change):
    # review and delivery then read the project alone.
    round_budget_yuan = NumberAttribute()
    round_voting_from = UTCDateTimeAttribute()
    round_voting_until = UTCDateTimeAttribute()
    round_publicity_until = UTCDateTimeAttribute()
    status = UnicodeAttribute()  # proposed | approved | rejected
    status_key = UnicodeAttribute()  # <round>#<status>
    reject_reason = UnicodeAttribute(null=True)
    reviewed_by = UnicodeAttribute(null=True)
    reviewed_at = UTCDateTimeAttribute(null=True)
    approved_at = UTCDateTimeAttribute(null=True)  # ties in the results break by earlier approval
    # Written by the finalisation of the round's results (A2).
    votes = NumberAttribute(null=True)
    rank = NumberAttribute(null=True)
    selected = BooleanAttribute(null=True)
    # Delivery of a selected project and its 验收.
    percent = NumberAttribute(default=0)
    progress_count = NumberAttribute(default=0)
    timeline = ListAttribute(of=RoundProjectStep, default=list)
    done_at = UTCDateTimeAttribute(null=True)
    ratings_count = NumberAttribute(default=0)
    ratings_sum = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_round = RoundProjectsByRound()
    by_round_status = RoundProjectsByRoundStatus()
    by_proposer = RoundProjectsByProposer()
    by_proposer_user = RoundProjectsByProposerUser()


class RoundProjectRatingsByUser(GlobalSecondaryIndex):
    """A resident's 验收 ratings (keys only): the comments 注销 erases (usecases/round_delivery)."""
    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()
    user_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RoundProjectRatingsByProjectTime(GlobalSecondaryIndex):
    """A project's 验收 ratings, newest first (``GET /v1/projects/{id}/ratings``: one Query a page; the items are
    small, so ALL)."""
    class Meta:
        index_name = "by_project_time"
        projection = AllProjection()
    project_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RoundProjectRatingModel(BaseModel):
    """One resident's 验收 rating of one done project: its conditional Put is the once-each rule."""
    TABLE = "round_project_ratings"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "round_project_ratings"

    project_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    community_id = UnicodeAttribute()
    rating = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    by_user = RoundProjectRatingsByUser()
    by_project_time = RoundProjectRatingsByProjectTime()
