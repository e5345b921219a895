"""志愿服务记录证明 (volunteer certificates): a volunteer's request, and once issued the snapshot the PDF and the
public check are made from (domain/certificates.py). One table, an index per list it serves; the numbers' counter
and uniqueness items live in the counters table (``certificate-seq#…``, ``certificate-number#…``,
``certificate-pending#…``)."""
from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from .base import BaseModel


class CertificatesByOwner(GlobalSecondaryIndex):
    """A person's certificates, newest first (``GET /v1/me/certificates``: one Query a page)."""
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()
    user_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CertificatesByStatus(GlobalSecondaryIndex):
    """A community's certificates of one status, newest first (``GET /v1/admin/certificates?status=``):
    ``listed`` = ``<community>#<status>``, moved by each change of status."""
    class Meta:
        index_name = "by_status"
        projection = AllProjection()
    listed = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class CertificatesByNumber(GlobalSecondaryIndex):
    """Sparse: issued (and revoked) certificates by their number — the public check's one Query. Keys only: the
    check then reads the certificate by id (a consistent GetItem: a revocation shows at once)."""
    class Meta:
        index_name = "by_number"
        projection = KeysOnlyProjection()
    number = UnicodeAttribute(hash_key=True)


class CertificateModel(BaseModel):
    """A certificate (志愿服务记录证明): ``pending`` → ``issued`` | ``refused``; ``issued`` → ``revoked``.

    What the request names: the period (Shanghai dates), the purpose, the person's registered real name then.
    What issuing fixes (the snapshot; never changed after, whatever the record later says): ``number``, the lines
    (``lines``: zlib'd JSON, domain/certificates.encode_lines), ``line_count``, ``total_minutes``, the issuer (the
    community's name), 负责人 (``signatory``), 经办人 (the issuing admin's name) and ``issued_at``."""
    TABLE = "certificates"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "certificates"

    id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    real_name = UnicodeAttribute()  # the registered real name when asked (issuing re-checks it is still the same)
    volunteer_number = UnicodeAttribute()
    period_from = UnicodeAttribute()  # YYYY-MM-DD (Shanghai)
    period_to = UnicodeAttribute()
    purpose = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    listed = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # The snapshot, set by the issue.
    number = UnicodeAttribute(null=True)
    lines = BinaryAttribute(null=True, legacy_encoding=False)
    line_count = NumberAttribute(null=True)
    total_minutes = NumberAttribute(null=True)
    issuer = UnicodeAttribute(null=True)
    signatory = UnicodeAttribute(null=True)
    handled_by = UnicodeAttribute(null=True)  # the admin who issued or refused
    handler_name = UnicodeAttribute(null=True)  # 经办人 as shown
    issued_at = UTCDateTimeAttribute(null=True)
    refused_at = UTCDateTimeAttribute(null=True)
    refuse_reason = UnicodeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    revoke_reason = UnicodeAttribute(null=True)

    by_owner = CertificatesByOwner()
    by_status = CertificatesByStatus()
    by_number = CertificatesByNumber()
