"""Names a person reads for the vocabulary codes the client returns."""

from __future__ import annotations

from store.rules import STATUS_LABELS, Layanan, UsulanStatus

NO_PEGAWAI = "Belum ada data pegawai. Impor dengan: berkas pegawai import pegawai.csv"

DOKUMEN_STATE = {
    "ada": ("✓ ada", "green"),
    "kurang": ("✗ kurang", "red"),
    "terlalu_besar": ("! terlalu besar", "yellow"),
    "dikembalikan": ("↩ dikembalikan", "magenta"),
    "tidak_berlaku": ("– tidak berlaku", "dim"),
}

FIELD_LABELS = {
    "nip": "NIP",
    "nama": "Nama",
    "tanggal_lahir": "Tanggal lahir",
    "jenis_kelamin": "Jenis kelamin",
    "jenis_pegawai": "Jenis pegawai",
    "golongan": "Golongan",
    "tmt_pangkat": "TMT pangkat",
    "tmt_cpns": "TMT CPNS",
    "tmt_pns": "TMT PNS",
    "pendidikan": "Pendidikan",
    "jabatan": "Jabatan",
    "jabatan_kind": "Jenis jabatan",
    "unit_kerja": "Unit kerja",
    "riwayat_pangkat": "Riwayat pangkat",
    "layanan": "Layanan",
    "jenis": "Jenis",
    "periode": "Periode",
    "status": "Status",
    "catatan": "Catatan OPD",
    "catatan_verifikator": "Catatan verifikator",
    "berlaku": "Dokumen opsional yang berlaku",
    "tidak_berlaku": "Dokumen yang tidak berlaku (dengan alasan)",
    "nomor_pertek": "Nomor pertek",
    "tanggal_pertek": "Tanggal pertek",
    "kode": "Jenis dokumen",
    "sha256": "Isi berkas",
    "size": "Ukuran",
    "pages": "Halaman",
    "nama_file": "Nama berkas",
    "state": "Keadaan",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def status_label(status: str) -> str:
    try:
        return STATUS_LABELS[UsulanStatus(status)]
    except ValueError:
        return status


def layanan_label(layanan: str) -> str:
    try:
        return Layanan(layanan).label
    except ValueError:
        return layanan


_LAYANAN_SHORT = {"kp": "KP", "pensiun": "Pensiun", "pindah": "Pindah instansi"}
_JENIS_SHORT = {
    "reguler": "reguler",
    "pilihan_struktural": "pilihan struktural",
    "pilihan_fungsional": "pilihan fungsional",
    "penyesuaian_ijazah": "penyesuaian ijazah",
    "bup": "BUP",
    "aps": "APS",
    "janda_duda_anak": "janda/duda/anak",
    "uzur": "uzur",
}


_STATUS_SHORT = {
    "draft": "Draf",
    "diajukan": "Diajukan",
    "dikembalikan": "BTS",
    "diverifikasi": "MS",
    "ditolak": "TMS",
    "diteruskan": "Ke BKN",
    "selesai": "Selesai",
}


def status_short(status: str) -> str:
    """`MS`, `BTS`, `Ke BKN`: for column headers where the full label does not fit."""
    return _STATUS_SHORT.get(status, status_label(status))


def layanan_short(layanan: str) -> str:
    """`KP`, `Pensiun`, `Pindah instansi`: for narrow tables."""
    return _LAYANAN_SHORT.get(layanan, layanan)


def usulan_label(layanan: str, jenis: str) -> str:
    """`KP reguler`, `Pensiun BUP`, `Pindah instansi`: short, for tables."""
    short = _LAYANAN_SHORT.get(layanan, layanan)
    if jenis in (layanan, "pindah"):
        return short
    return f"{short} {_JENIS_SHORT.get(jenis, jenis.replace('_', ' '))}"


STATUS_CHOICES = [(STATUS_LABELS[s], s.value) for s in UsulanStatus]
LAYANAN_CHOICES = [(item.label, item.value) for item in Layanan]


def nip_label(nip: str) -> str:
    """A NIP as SKs print it: "196804111993031009" reads "19680411 199303 1 009"."""
    if len(nip) == 18 and nip.isdigit():
        return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"
    return nip
