"""Districts (区) and their departments (区直部门): the levels above streets (街呼区应). Created, attached and staffed by
the platform operator (command line, ``usecases/districts.py``)."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from .base import BaseModel


class DistrictsRegistry(GlobalSecondaryIndex):
    """Every district, oldest first (one partition): the bulletin's monthly finalisation pages through it (a Query;
    no function may Scan)."""
    class Meta:
        index_name = "by_registry"
        projection = AllProjection()
    registry = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


DISTRICT_REGISTRY = "district"


class DistrictModel(BaseModel):
    """A district (区, 区级平台): its streets, its departments, its staff (``district_staff``: approve the
    extensions the streets and departments ask, supervise them), and the settings its departments work by."""
    TABLE = "districts"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "districts"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    # Kept in the same transaction as the other side (``streets.district_id``, ``departments.district_id``).
    street_ids = UnicodeSetAttribute(null=True)
    department_ids = UnicodeSetAttribute(null=True)
    # Kept in the same transaction as naming staff: who is pushed what concerns the district.
    staff_ids = UnicodeSetAttribute(null=True)
    # 区直部门's time limits when a department sets none (None: the defaults in domain/requests.py).
    department_answer_minutes = NumberAttribute(null=True)
    department_solve_days = NumberAttribute(null=True)
    # 通报 (bulletin) thresholds, percent: a row under any of them is flagged (stored for the bulletin).
    bulletin_satisfaction_min = NumberAttribute(null=True)
    bulletin_resolution_min = NumberAttribute(null=True)
    bulletin_response_min = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    registry = UnicodeAttribute(default=DISTRICT_REGISTRY)  # by_registry: every district (written with its Put)

    by_registry = DistrictsRegistry()


class DepartmentsByDistrict(GlobalSecondaryIndex):
    """A district's departments, by name (``GET /v1/street/departments``: one Query)."""
    class Meta:
        index_name = "by_district"
        projection = AllProjection()
    district_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)


class DepartmentModel(BaseModel):
    """A department of a district (城管局, 住建局 …): its staff (``department_staff``) answer and solve what a street
    of the district escalates to it, within its own time limits (else the district's)."""
    TABLE = "departments"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "departments"

    id = UnicodeAttribute(hash_key=True)
    district_id = UnicodeAttribute()
    name = UnicodeAttribute()
    # Kept in the same transaction as naming staff: whom the department's messages reach.
    staff_ids = UnicodeSetAttribute(null=True)
    answer_minutes = NumberAttribute(null=True)
    solve_days = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    by_district = DepartmentsByDistrict()
