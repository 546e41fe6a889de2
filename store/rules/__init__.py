"""The personnel rules of DOMAIN.md, pure: no I/O beyond reading the rules TOML.

NIP and NIK, golongan and pendidikan, KP periods and eligibility, pensiun,
dokumen kinds and checklists, and the usulan state machine. Whatever a BKD may
change lives in `RulesConfig` (defaults.toml plus the BKD's override).
"""

from __future__ import annotations

from store.rules._dates import BULAN, format_tanggal
from store.rules.config import RulesConfig, default_config, load_rules_config
from store.rules.dokumen import (
    ChecklistItem,
    DokumenKind,
    Layanan,
    checklist,
    default_jenis,
    dokumen_kinds,
    exceeds_limit,
    find_kode_in_name,
    jenis_options,
    match_kode,
)
from store.rules.eligibility import Eligibility
from store.rules.errors import RuleError
from store.rules.golongan import ALL_GOLONGAN, Golongan, next_golongan, parse_golongan
from store.rules.jabatan import (
    GOLONGAN_RANGE,
    JENJANG_KETERAMPILAN,
    JabatanKind,
    golongan_fits_jabatan,
    jenjang_keterampilan,
    parse_jabatan,
)
from store.rules.kp import (
    KpEligibility,
    KpJenis,
    KpPeriod,
    current_kp_period,
    kp_eligibility,
    kp_periods_of_year,
    next_kp_period,
    parse_kp_jenis,
)
from store.rules.nik import Nik, parse_nik
from store.rules.nip import (
    Nip,
    is_valid_pppk_number,
    looks_like_pppk,
    normalise_nip,
    parse_nip,
)
from store.rules.pendidikan import (
    Pendidikan,
    education_ceiling,
    entry_golongan,
    parse_pendidikan,
)
from store.rules.pensiun import (
    PensiunJenis,
    aps_eligible,
    bup_age,
    bup_service_ok,
    pensiun_due,
    pensiun_target_window,
    tmt_pensiun,
)
from store.rules.status import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    Role,
    TransitionError,
    UsulanStatus,
    check_transition,
    next_statuses,
)

__all__ = [
    "ALL_GOLONGAN",
    "BULAN",
    "FINAL_STATUSES",
    "GOLONGAN_RANGE",
    "JENJANG_KETERAMPILAN",
    "OPEN_STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "ChecklistItem",
    "DokumenKind",
    "Eligibility",
    "Golongan",
    "JabatanKind",
    "KpEligibility",
    "KpJenis",
    "KpPeriod",
    "Layanan",
    "Nik",
    "Nip",
    "Pendidikan",
    "PensiunJenis",
    "Role",
    "RuleError",
    "RulesConfig",
    "TransitionError",
    "UsulanStatus",
    "aps_eligible",
    "bup_age",
    "bup_service_ok",
    "check_transition",
    "checklist",
    "current_kp_period",
    "default_config",
    "default_jenis",
    "dokumen_kinds",
    "education_ceiling",
    "entry_golongan",
    "exceeds_limit",
    "find_kode_in_name",
    "format_tanggal",
    "golongan_fits_jabatan",
    "is_valid_pppk_number",
    "jenis_options",
    "jenjang_keterampilan",
    "kp_eligibility",
    "kp_periods_of_year",
    "load_rules_config",
    "looks_like_pppk",
    "match_kode",
    "next_golongan",
    "next_kp_period",
    "next_statuses",
    "normalise_nip",
    "parse_golongan",
    "parse_jabatan",
    "parse_kp_jenis",
    "parse_nik",
    "parse_nip",
    "parse_pendidikan",
    "pensiun_due",
    "pensiun_target_window",
    "tmt_pensiun",
]
