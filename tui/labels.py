"""The labels live in client.labels (the CLI shows the same words); re-exported here."""

from client.labels import (
    DOKUMEN_STATE,
    FIELD_LABELS,
    LAYANAN_CHOICES,
    NO_PEGAWAI,
    STATUS_CHOICES,
    field_label,
    layanan_label,
    status_label,
    usulan_label,
)

__all__ = [
    "DOKUMEN_STATE",
    "FIELD_LABELS",
    "LAYANAN_CHOICES",
    "NO_PEGAWAI",
    "STATUS_CHOICES",
    "field_label",
    "layanan_label",
    "status_label",
    "usulan_label",
]
