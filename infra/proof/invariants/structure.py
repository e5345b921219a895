"""The structure's invariants: ``structure`` (community ↔ street, street staff ↔ users' ``street_ids``, grid workers
↔ users' ``grid_ids``, community admins ↔ its active admins, each with its role; a user's community and grid
exist; and above the streets (街呼区应, ``region``): street ↔ district, department ↔ district, a community's
district its street's, district and department staff ↔ users' ``district_ids`` / ``department_ids``, each with its
role) and ``identity`` (openid ↔ user)."""
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

    def region(self) -> None:
        """Above the streets (街呼区应, ``usecases/districts.py``, each link written with its other side in one
        transaction): district.street_ids ↔ street.district_id, district.department_ids ↔ department.district_id,
        a community's district_id == its street's (none without a street or when the street has none), district and
        department staff_ids ↔ active users' district_ids / department_ids, and those scopes ↔ the roles."""
        active = {u.id: u for u in self.d["users"] if u.status == "active"}
        for d in self.districts.values():
            where = f"districts {d.id}"
            for street_id in sorted(d.street_ids or ()):
                s = self.streets.get(street_id)
                if s is None or s.district_id != d.id:
                    self.fail("structure", where, f"street_ids has {street_id}, whose district_id is "
                                                  f"{getattr(s, 'district_id', '(no street)')}")
            for department_id in sorted(d.department_ids or ()):
                p = self.departments.get(department_id)
                if p is None or p.district_id != d.id:
                    self.fail("structure", where, f"department_ids has {department_id}, whose district_id is "
                                                  f"{getattr(p, 'district_id', '(no department)')}")
            for user_id in sorted(d.staff_ids or ()):
                u = active.get(user_id)
                if u is None or d.id not in (u.district_ids or ()):
                    self.fail("structure", where, f"staff_ids has {user_id}, not active staff of it")
        for s in self.streets.values():
            if s.district_id and s.id not in (getattr(self.districts.get(s.district_id), "street_ids", None) or ()):
                self.fail("structure", f"streets {s.id}", f"district_id {s.district_id} does not list it")
        for p in self.departments.values():
            where = f"departments {p.id}"
            if p.id not in (getattr(self.districts.get(p.district_id), "department_ids", None) or ()):
                self.fail("structure", where, f"district_id {p.district_id} does not list it")
            for user_id in sorted(p.staff_ids or ()):
                u = active.get(user_id)
                if u is None or p.id not in (u.department_ids or ()):
                    self.fail("structure", where, f"staff_ids has {user_id}, not active staff of it")
        for c in self.communities.values():
            street = self.streets.get(c.street_id) if c.street_id else None
            if c.street_id and street is None:
                continue  # its street is missing: reported by ``structure`` above
            expected = street.district_id if street is not None else None
            if (c.district_id or None) != (expected or None):
                self.fail("structure", f"communities {c.id}", f"district_id {c.district_id} != its street "
                                                              f"{c.street_id}'s district_id {expected}")
        for u in active.values():
            where, roles = f"users {u.id}", set(u.roles or ())
            for district_id in sorted(u.district_ids or ()):
                if u.id not in (getattr(self.districts.get(district_id), "staff_ids", None) or ()):
                    self.fail("structure", where, f"district_ids has {district_id}, whose staff_ids do not list them")
            if bool(u.district_ids) != ("district_staff" in roles):
                self.fail("structure", where, f"roles {sorted(roles)} and district_ids "
                                              f"{sorted(u.district_ids or ())} disagree")
            for department_id in sorted(u.department_ids or ()):
                if u.id not in (getattr(self.departments.get(department_id), "staff_ids", None) or ()):
                    self.fail("structure", where, f"department_ids has {department_id}, whose staff_ids do not "
                                                  "list them")
            if bool(u.department_ids) != ("department_staff" in roles):
                self.fail("structure", where, f"roles {sorted(roles)} and department_ids "
                                              f"{sorted(u.department_ids or ())} disagree")

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
