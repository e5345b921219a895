"""The member directory's invariant: ``directory`` (成员名录) — every active member of a community has exactly the
entries ``domain/directory.entry_keys`` derives from their user item (none missing, none extra), and no entry
points to a user that is deleted, gone, or now in another community (a ghost); and ``volunteers`` (注册志愿者数) —
each community's registered-volunteers counter (``community-stats#<community>``, ``volunteers``: read by the
street's statistics) == its active members holding the volunteer role, the members the directory lists under
``role#volunteer#`` (``usecases/volunteer_count.counted_in``)."""
from __future__ import annotations

from collections import Counter, defaultdict

from infra.proof.invariants.tables import _raw_number
from tongxin.usecases import volunteer_count
from tongxin.usecases.directory import keys_of


class DirectoryChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def directory(self) -> None:
        stored: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for entry in self.d["members"]:
            where = f"members {entry.community_id}/{entry.entry_key}"
            user = self.users.get(entry.user_id)
            if user is None or user.status != "active":
                self.fail("directory", where, f"points to {entry.user_id}, a user gone or deleted")
                continue
            if user.community_id != entry.community_id:
                self.fail("directory", where, f"points to {entry.user_id}, now in {user.community_id or 'no community'}")
                continue
            if not entry.entry_key.endswith("#" + entry.user_id):
                self.fail("directory", where, f"names {entry.user_id}, but its key ends with another user")
            stored[entry.user_id].add((entry.community_id, entry.entry_key))
        for user in self.d["users"]:
            if user.status != "active" or not user.community_id:
                continue
            expected, found = keys_of(user), stored.get(user.id, set())
            for community_id, key in sorted(expected - found):
                self.fail("directory", f"users {user.id}", f"missing its entry {key}")
            for community_id, key in sorted(found - expected):
                self.fail("directory", f"members {community_id}/{key}", f"not an entry of {user.id} as it is now")

    def volunteer_counts(self) -> None:
        """Kept ±1 in the transaction of every change of role, membership or account (``volunteer_count.sync``), and
        set from the directory by ``recount``: a community with volunteers and no counter is off too (0 stored)."""
        expected = Counter(volunteer_count.counted_in(u) for u in self.d["users"])
        expected.pop(None, None)
        stored = {key[len(volunteer_count.PREFIX):]: _raw_number(item, volunteer_count.VOLUNTEERS)
                  for key, item in self.counters.items() if key.startswith(volunteer_count.PREFIX)}
        for community_id in sorted(set(expected) | set(stored)):
            have, want = stored.get(community_id, 0), expected.get(community_id, 0)
            if have != want:
                where = f"counters {volunteer_count.key(community_id)}"
                if community_id not in self.communities:
                    self.fail("volunteers", where, f"volunteers {have} of a community that does not exist")
                else:
                    self.fail("volunteers", where, f"volunteers {have} != its active members with the volunteer "
                                                   f"role {want}")
