"""Bantuan: what each screen is for and which keys do what, in plain words."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Markdown

from tui.screens.base import BerkasDialog

BANTUAN = """\
# Bantuan Berkas

Berkas menyimpan semua pekerjaan di komputer ini lebih dulu, lalu mengirimnya ke
BKD setiap kali jaringan tersedia. Tidak ada yang hilang walaupun jaringan putus.

## Pindah layar

| Tombol | Layar | Gunanya |
| --- | --- | --- |
| F2 | Beranda | jumlah usulan per status dan apa yang perlu dikerjakan |
| F3 | Pegawai | cari pegawai menurut NIP atau nama, lihat rinciannya |
| F4 | Usulan | daftar usulan, buat usulan, lengkapi dokumen, ajukan |
| F5 | Kotak masuk | pindaian yang belum bisa diberkaskan otomatis |
| F6 | Sinkronisasi | keadaan pengiriman ke BKD |
| F7 | Konflik | data yang diubah di dua tempat, pilih yang benar |
| F1 | Bantuan | layar ini |
| Ctrl+P | Perintah | cari perintah apa saja dengan mengetik namanya |
| Ctrl+Q | Keluar | menutup Berkas (pekerjaan sudah tersimpan) |

Tab berpindah antarbagian layar, panah atas/bawah memilih baris, Enter membuka.

## Persiapan awal
Pada komputer baru, Berkas menuntun tiga langkah: mendaftarkan komputer ke server
BKD (alamat server dan kode pendaftaran dari admin BKD), mengimpor pegawai dari
berkas CSV (baris yang salah ditampilkan beserta alasannya, baris yang benar tetap
diimpor), dan memilih folder hasil pindaian. Setiap langkah boleh dilewati dulu;
**p** di Beranda membukanya lagi. Esc menunda: Berkas melanjutkannya saat dibuka lagi.

## Beranda
Setiap baris bisa dibuka dengan Enter: daftar usulan menurut status, pegawai
yang layak KP atau akan pensiun tetapi belum diusulkan, dokumen yang kurang,
usulan yang dikembalikan (BTS).

## Pegawai
Ketik NIP (boleh dengan spasi) atau sebagian nama, hasil muncul saat mengetik.
Panah bawah ke daftar, Enter melihat rincian: riwayat pangkat, batas usia
pensiun (BUP), TMT pensiun, dan usulannya. **n** membuat usulan.

## Usulan
**f** menyaring menurut layanan, status, periode dan kelengkapan; **c**
menampilkan semua. Di dalam usulan:

- **a** melampirkan dokumen dari kotak masuk atau dari berkas PDF di komputer
- **g** mengganti dokumen, **x** menghapus dokumen dari usulan
- **spasi** menandai dokumen bertanda * berlaku atau tidak untuk pegawai ini
- **t** menandai dokumen tidak berlaku dengan alasan (mis. surat nikah bagi yang belum
  menikah), atau mencabut tandanya
- **j** mengajukan ke BKD; hanya bisa bila semua dokumen wajib sudah ada

## Kotak masuk
Pindaian yang nama berkasnya tidak memuat NIP atau jenis dokumen. Bila isi
halamannya dikenali ("Dikenali dari isi: NIP …, SK pangkat"), sarannya tampil
di pratinjau dan **s** menerimanya: pindaian diberkaskan ke pegawai dan jenis
itu. **t** menetapkannya ke pegawai dan jenis dokumen pilihan sendiri; **l**
menampilkan pindaiannya di layar (halaman demi halaman); **b** membuangnya ke
karantina (berkasnya tetap disimpan, dengan alasannya).

## Sinkronisasi
Menunjukkan apakah perangkat terhubung, kapan terakhir sinkron, berapa perubahan
dan dokumen yang menunggu dikirim. **s** sinkronkan sekarang.

## Konflik
Bila data yang sama diubah di sini dan di tempat lain, setiap bidang ditampilkan
berdampingan: nilai sebelumnya, milik saya, dan dari server, dengan siapa dan
kapan mengubahnya. Pilih **m** (milik saya), **t** (dari server) atau **e**
(sunting sendiri) untuk setiap bidang (**M** / **T** untuk semua bidang sekaligus),
lalu **s** untuk menyelesaikan. Keputusan ikut terkirim ke BKD sehingga semua
perangkat melihat hasil yang sama.
"""


BANTUAN_VERIFIKATOR = """\
# Bantuan Berkas: verifikator BKD

Di sini verifikator BKD memeriksa usulan dari semua OPD: membuka setiap dokumen,
menilainya, lalu memutuskan MS, BTS atau TMS. Keputusan tersimpan di komputer ini
lebih dulu dan terkirim ke BKD serta ke OPD pengusul pada sinkronisasi berikutnya.

## Tombol di semua layar

| Tombol | Gunanya |
| --- | --- |
| F1 | layar bantuan ini |
| Ctrl+P | cari perintah apa saja dengan mengetik namanya |
| Ctrl+L | tutup kunci verifikator sekarang; frasa sandi ditanya lagi |
| Ctrl+Q | menutup Berkas (keputusan sudah tersimpan) |

Tab berpindah antarbagian layar, panah atas/bawah memilih baris, Enter membuka.
Kunci verifikator juga tertutup sendiri setelah Berkas lama tidak dipakai.

## Antrian
Semua usulan yang menunggu BKD, yang terlama di atas. Saring menurut OPD, layanan,
periode dan status, atau ketik NIP atau nama. Enter membuka pemeriksaan.

- **spasi** menandai usulan; **t** meneruskan usulan bertanda (atau yang dipilih) ke BKN
- **s** sinkronkan sekarang, **r** rekap per OPD dan layanan
- **p** menulis paket BKN (dokumen dan manifest untuk SIASN) ke folder pilihan
- **k** membagikan kunci OPD kepada perangkat OPD yang memintanya

## Pemeriksaan
Data pegawai dan hasil aturan (syarat KP, batas pendidikan, BUP dan TMT pensiun) di
atas, daftar dokumen di kiri dan penampil dokumen di kanan (di layar sempit: di bawah).
Peringatan penting tampil dengan tanda ⚠.

- **y** dokumen sesuai, **e** perlu perbaikan (dengan catatan untuk OPD)
- **m** MS (memenuhi syarat), **b** BTS (dikembalikan; perlu catatan dokumen),
  **x** TMS (ditolak; perlu alasan)
- sesudah MS: **t** teruskan ke BKN, **f** selesai dengan nomor dan tanggal pertek/SK
- **v** pindah ke penampil; di sana PgUp/PgDn berganti halaman
- **Esc** kembali ke antrian

## Rekap
Jumlah usulan per OPD dan layanan menurut status, median hari sampai keputusan, dan
usulan yang melewati batas. **c** mengekspor rekap ke CSV.
"""


class BantuanScreen(BerkasDialog[None]):
    """What each screen is for: the OPD's text, or the one given (the verifikator's)."""

    CSS_PATH = "dialog.tcss"
    AUTO_FOCUS = "#teks-bantuan"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "batal", "Tutup"),
        Binding("f1", "batal", "Tutup", show=False),
        Binding("q", "batal", "Tutup", show=False),
    ]

    def __init__(self, text: str = BANTUAN) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="bantuan"), VerticalScroll(id="teks-bantuan"):
            yield Markdown(self._text)

    def on_mount(self) -> None:
        self.query_one("#dialog").border_subtitle = "Esc: tutup"
