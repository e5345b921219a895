"""The invariant checker: reads every table of a stack and reports each invariant of design.md that does not hold.

    python -m infra.proof.invariants [--endpoint URL] [--prefix tongxin-dev] [--region cn-north-1] [--data-dir DIR]

prints one violation a line and exits 1 if there is any (0 and "all invariants hold" otherwise): for ``make dev``
users after trying something (without ``--endpoint``: the running local stack, found in ``.local-data/endpoints.json``;
``cli.py``), and for operators. Tests call ``check`` (``tests/stack.py``:
``RunningStack.check_invariants()`` after every e2e, contention and burst module).

``check(client, table_name)`` Scans every table (paginated, consistent reads): a test and operations tool, never
on a request path. It reads the items as the models declare them and recomputes, from the other tables, every
figure the transactions keep — so it holds only when every change was one whole write. Each violation is one line
``[<invariant>] <table> <key>: <what>``; the invariants (the tag in brackets), each item under the module of this
package that checks it:

- ``ledger.py`` ``balance`` a user's ``points_balance`` == the sum of their ledger amounts, and ≥ 0;
  ``ledger-chain`` the entries' ``balance_after`` make one chain from 0, each the one before plus its amount (in
  the order they committed: time order, unless clocks disagree); ``earned`` ``earned_total`` == the sum of their
  earnings (every kind but ``redeem`` and ``refund``); ``ledger-orphan`` no entry of an unknown user.
  ``credit-key`` each ledger entry's key is the one derived from its source (``wish#<id>#confirm``,
  ``checkout#<event>#<user>``, ``redeem#<id>``, …), so the table's key makes each source credited once;
  ``credit-once`` no source credited twice under different users (a wish, an award, a redemption). ``award`` an
  award credited (and its reversal debited) once on the awarded user's ledger.
- ``wishes.py`` ``wish-claimer`` a claimer iff claimed / fulfilled / confirmed (a wish cancelled while claimed
  keeps the claimer who held it; none in pending_review, open, rejected, expired), never the author;
  ``wish-credit`` a confirmed wish is credited to its claimer once, ``points_awarded`` points (0: no entry, or an
  entry of 0 when a fairness cap applied), and no other wish is credited; ``wish-keys`` the list and due keys a
  status brings (``domain/wishes.list_keys``, ``needs_grid_worker``, ``next_due``) are the ones stored.
- ``events.py`` ``event-signed`` ``signed_count`` == the sign-ups holding a place (signed, checked_in,
  checked_out, no_show, unsettled: ``walk_in`` takes one too) and 0 ≤ it ≤ ``capacity``; ``event-waitlist``
  ``waitlist_count`` == the waitlisted sign-ups; ``waitlist-position`` tickets distinct per event, each waitlisted
  sign-up holds one, 1 ≤ ticket ≤ ``waitlist_seq``; ``promotion-order`` nobody promoted past a ticket still
  waiting; ``event-fill`` places free while people wait (open, not started) ⇒ the scheduler is due to fill them;
  ``signup-keys`` roster and "mine" keys match the status, the event exists.
- ``attendance.py`` ``attendance`` minutes only on a checked-out attendance, 0 ≤ minutes ≤ the event's length
  (clipped); ``attendance-credit`` an attendance's ``points`` == the sum of its ledger credits (check-out and
  corrections): credited once; ``minutes`` ``volunteer_minutes`` == the user's attendance minutes;
  ``volunteer-record`` the record counters (``record#<user>#all``: minutes, points, count) and the community's
  hours (``stats#hours#<community>#<month>``) == the attendances.
- ``scores.py`` ``scores`` the all-time community leaderboards (points, minutes) of active accounts == the ledger and the
  attendances; the month, year and all-time items of each board agree with each other; ``score-copies`` the
  current periods' items carry their member's grid board and nickname, and none is a closed account's.
- ``store.py`` ``stock`` a goods item's stock ≥ 0, its store exists; ``stock-exact`` (when ``stock_issued`` is
  given: the stock ever put on the shelf per goods id) stock == issued − held (pending or picked up);
  ``allowance`` ``allow#<goods>#<user>`` == the quantity the user holds pending or picked up. ``redemption`` the
  debit ``redeem#<id>`` of ``points`` == price × quantity on the redeemer's ledger, a refund iff cancelled or
  expired, the pickup code item held for it, its queue and due keys as its status says.
- ``outbox.py`` ``outbox`` every message final (sent, skipped, failed, expanded: off the sender's index) or due
  for retry (pending, or sending on a lease, with ``next_attempt_at`` on its own retry shard); a fan-out not yet
  expanded is on the expansion index (a half-expanded one resumes from its cursor); an expanded one wrote at least
  ``expanded_count`` messages; ``quota`` subscription quotas ≥ 0.
- ``requests.py`` ``request`` 接诉即办: ``handler_key``/``handler_due`` iff waiting on a level and as
  ``domain/requests`` derives them, ``due_at`` == ``next_due``, an outcome (and ``closed_at``) iff closed, the
  level among those reached, a timeline that starts with ``submit``; a department's own facts
  (``department_facts``, 区直部门) only on a request at the department level with a ``department_id``, each a known
  one, never both ``answered_on_time`` and ``first_answer_late``, ``resolved_on_time`` only with ``resolved``.
- ``structure.py`` ``structure`` community.street_id ↔ street.community_ids; street.staff_ids ↔ users.street_ids
  (and the street_staff role); grid.worker_ids ↔ users.grid_ids (and the grid_worker role); community.admin_ids ↔
  the active users with the admin role in it; a user's community and grid exist; above the streets (街呼区应):
  district (区).street_ids ↔ street.district_id, district.department_ids ↔ department (区直部门).district_id, a
  community's district_id == its street's, district / department staff_ids ↔ active users' district_ids /
  department_ids (and the district_staff / department_staff roles); ``identity`` openid ↔ user.
- ``directory.py`` ``directory`` the member directory (成员名录): every active member of a community has exactly
  the entries ``domain/directory.entry_keys`` derives from their user item, and no entry points to a user deleted,
  gone or in another community; ``volunteers`` the registered volunteers (注册志愿者数,
  ``community-stats#<community>`` ``volunteers``) == the community's active members with the volunteer role.
- ``statistics.py`` ``statistics`` the wish, request and event statistics counters (per community, day and month
  of the item's creation) == what the items count now (``domain/stats.wish_deltas``, ``domain/requests.deltas``
  from nothing to the item as it stands; events: published, cancelled, capacity and signed of those standing,
  promotions, waitlist tickets, check-ins, walk-ins, no-shows, unsettled); each department's request counters
  (``stats#requests-dept#<department>#d#…`` / ``#m#…``) == ``domain/requests.dept_deltas`` from nothing, summed
  over the requests that reached it (received, and its ``department_facts``).
- ``bulletin.py`` ``bulletin`` the monthly bulletin (通报): each snapshot (``bulletin#street|district#<id>#<month>``)
  final, of its unit and month, a month before the current Shanghai one, of a street or district that exists,
  with its ``bulletin_ready`` fan-out (the outbox item of its key; unless it may have expired,
  ``domain/push.FINAL_KEPT_DAYS`` after the month's end); ``bulletin#done#<month>`` ⇒ every street and district
  that existed in that month has its snapshot.
- ``ballots.py`` ``ballot-count`` 微实事 票选: for every round, each project's sharded vote counters
  (``round-votes#<round>#<project>#<shard>``), shard by shard, == the stored ballots of that shard choosing it, the
  turnout's shards == the ballots of each shard, and no count without its ballots; ``ballot-choice`` a ballot's
  projects are distinct approved projects of its round (and community), its shard the voter's; ``round-results`` a
  finalised round: each approved project's ``votes`` == its counters, ranks 1..n, ``selected_count`` == the projects
  selected, the round off the finalisation index.
- ``project_rounds.py`` ``round-counts`` 微实事 rounds: a round's ``proposed_count`` / ``approved_count`` (≤ 30) /
  ``done_count`` == its projects, approved ones, selected ones done; a resident's unexpired proposal counter
  (``round-proposals#<round>#<user>``, ≤ 3) == their projects in the round; ``round-project`` a project of an existing
  round of its community, the round's dates and budget copied as they are, its list keys, ``approved_at`` iff approved,
  its cost within the budget, its timeline as long as ``progress_count``, done only selected at 100 %, no votes before
  the results are final; ``round-rating`` ratings counted exactly (验收), only of a done project; ``round-index`` a round
  not final is on the finalisation index at its ``voting_until``.

The rest of the package: ``checker.py`` (``check`` and the checker that loads once, indexes and runs every area),
``tables.py`` (the tables read and how), ``cli.py`` (the command line).

Not derivable from the tables, so not checked: a goods item's exact stock without ``stock_issued`` (neither the
initial stock nor restocks are recorded); events' ``signups`` and ``left`` counts (actions: a sign-up given up and
taken again is one item); the points statistics (``points-stats#``: derivable from the ledger, but the demo seed's
200 points have no counter, so every local stack would fail it); past periods' grid boards (an item's grid board
follows its member only while its period is current); counters with an expiry (fairness caps, an awarder's day).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT / "layers") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers"))

from infra.proof.invariants.checker import check  # noqa: E402

__all__ = ["check"]
