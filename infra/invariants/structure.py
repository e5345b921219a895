"""The structure's invariants: ``structure`` (community ↔ street, street staff ↔ users' ``street_ids``, grid workers
↔ users' ``grid_ids``, community admins ↔ its active admins, each with its role; a user's community and grid
exist) and ``identity`` (openid ↔ user)."""
from __future__ import annotations


class StructureChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def structure(self) -> None:
        active = {u.id: u for u in self.d["users"] if u.status == "active"}
        for c in self.d["communities"]:
            if c.street_id and c.id not in (getattr(self.streets.get(c.street_id), "community_ids", None) or ()):
                self.fail("structure", f"communities {c.id}", f"street_id {c.street_id} does not list it")
            for user_id in sorted(c.admin_ids or ()):
                u = active.get(user_id)
                if u is None or u.community_id != c.id or "admin" not in (u.roles or ()):
                    self.fail("structure", f"communities {c.id}", f"admin_ids has {user_id}, not an active admin of it")
        for s in self.d["streets"]:
            for community_id in sorted(s.community_ids or ()):
                c = self.communities.get(community_id)
                if c is None or c.street_id != s.id:
                    self.fail("structure", f"streets {s.id}", f"community_ids has {community_id}, whose street_id is "
                                                              f"{getattr(c, 'street_id', '(no community)')}")
            for user_id in sorted(s.staff_ids or ()):
                u = active.get(user_id)
                if u is None or s.id not in (u.street_ids or ()):
                    self.fail("structure", f"streets {s.id}", f"staff_ids has {user_id}, not active staff of it")
        for g in self.d["grids"]:
            for user_id in sorted(g.worker_ids or ()):
                u = active.get(user_id)
                if u is None or u.community_id != g.community_id or g.id not in (u.grid_ids or ()):
                    self.fail("structure", f"grids {g.community_id}/{g.id}", f"worker_ids has {user_id}, not an "
                                                                             "active worker of it")
        for u in active.values():
            where, roles = f"users {u.id}", set(u.roles or ())
            if u.community_id and u.community_id not in self.communities:
                self.fail("structure", where, f"community {u.community_id} does not exist")
            if u.grid_id and (u.community_id, u.grid_id) not in self.grids:
                self.fail("structure", where, f"grid {u.grid_id} does not exist in {u.community_id}")
            for grid_id in sorted(u.grid_ids or ()):
                g = self.grids.get((u.community_id, grid_id))
                if g is None or u.id not in (g.worker_ids or ()):
                    self.fail("structure", where, f"grid_ids has {grid_id}, whose worker_ids do not list them")
            if bool(u.grid_ids) != ("grid_worker" in roles):
                self.fail("structure", where, f"roles {sorted(roles)} and grid_ids {sorted(u.grid_ids or ())} disagree")
            for street_id in sorted(u.street_ids or ()):
                if u.id not in (getattr(self.streets.get(street_id), "staff_ids", None) or ()):
                    self.fail("structure", where, f"street_ids has {street_id}, whose staff_ids do not list them")
            if bool(u.street_ids) != ("street_staff" in roles):
                self.fail("structure", where, f"roles {sorted(roles)} and street_ids {sorted(u.street_ids or ())} "
                                              "disagree")
            admins = getattr(self.communities.get(u.community_id), "admin_ids", None) or ()
            if "admin" in roles and u.id not in admins:
                self.fail("structure", where, f"an admin missing from {u.community_id}'s admin_ids")

    def identities(self) -> None:
        for identity in self.d["identities"]:
            u = self.users.get(identity.user_id)
            if u is None or u.status != "active" or u.openid != identity.openid:
                self.fail("identity", f"identities {identity.user_id}", "maps an openid to a user that is gone or "
                                                                        "holds another openid")
        mapped = {i.openid: i.user_id for i in self.d["identities"]}
        for u in self.d["users"]:
            if u.status == "active" and u.openid and mapped.get(u.openid) != u.id:
                self.fail("identity", f"users {u.id}", "its openid maps to another user (or none)")
