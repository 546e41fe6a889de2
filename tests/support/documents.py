"""Documents as staff scan them, for page reading: an office page with a title
naming its kind and an identity block with the pegawai's name and NIP, and
batches with separator sheets in front of each document (PDF, TIFF, or a
numbered run of images).

Text is drawn with Pillow's embedded FreeType font (`ImageFont.load_default`
with a size), so the pages look the same on every machine and need no system
font. Every builder is deterministic for its arguments.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from client.intake.sheets import SheetCode, SheetLine, format_nip, render_sheet
from tests.support.scans import a4_pixels, jpeg_bytes, pdf_from_jpegs

# Title lines per dokumen kind, as the documents print them.
TITLES: dict[str, tuple[str, ...]] = {
    "SK_CPNS": ("KEPUTUSAN BUPATI SUKAMAJU", "TENTANG PENGANGKATAN CALON PEGAWAI NEGERI SIPIL"),
    "SK_PNS": ("KEPUTUSAN BUPATI SUKAMAJU", "TENTANG PENGANGKATAN MENJADI PEGAWAI NEGERI SIPIL"),
    "SK_PANGKAT": ("SURAT KEPUTUSAN", "TENTANG KENAIKAN PANGKAT PEGAWAI NEGERI SIPIL"),
    "SKP": ("SASARAN KINERJA PEGAWAI", "PERIODE PENILAIAN JANUARI - DESEMBER"),
    "IJAZAH": ("IJAZAH", "UNIVERSITAS NEGERI SUKAMAJU"),
    "DPCP": ("DATA PERORANGAN CALON PENERIMA PENSIUN", "PEGAWAI NEGERI SIPIL"),
    "SK_JABATAN": ("KEPUTUSAN BUPATI SUKAMAJU", "TENTANG PENGANGKATAN DALAM JABATAN"),
    "TRANSKRIP": ("TRANSKRIP NILAI", "PROGRAM STUDI ADMINISTRASI NEGARA"),
    "SK_KGB": ("SURAT PEMBERITAHUAN", "KENAIKAN GAJI BERKALA"),
    "LAIN": ("SURAT KETERANGAN", "KEPALA DINAS PENDIDIKAN"),  # names no kind
    "KTP": ("PROVINSI JAWA BARAT", "KARTU TANDA PENDUDUK"),
}
_BODY = [
    "bahwa",
    "dalam",
    "rangka",
    "pembinaan",
    "karier",
    "pegawai",
    "perlu",
    "menetapkan",
    "keputusan",
    "yang",
    "bersangkutan",
    "telah",
    "memenuhi",
    "syarat",
    "sesuai",
    "peraturan",
    "pemerintah",
    "nomor",
    "tahun",
    "mengingat",
    "undang",
    "undang",
    "aparatur",
    "sipil",
    "negara",
    "menimbang",
    "memperhatikan",
    "pertimbangan",
    "teknis",
    "badan",
    "kepegawaian",
    "daerah",
    "gaji",
    "pokok",
    "golongan",
    "ruang",
    "masa",
    "kerja",
    "terhitung",
    "mulai",
    "tanggal",
    "unit",
]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def document(
    *,
    kode: str,
    people: Sequence[tuple[str, str]],
    dpi: int = 150,
    seed: int = 0,
    skew: float = 0.0,
    noise: bool = True,
    nip_split: bool = False,
) -> Image.Image:
    """One greyscale A4 page of kind `kode` about `people` ((nama, nip) pairs):
    letterhead, title in capitals, an identity block per person, body text in
    lower case. `nip_split` breaks each NIP over two lines, as narrow columns do."""
    rnd = random.Random(f"{kode}-{seed}")
    width, height = a4_pixels(dpi)
    scale = dpi / 300
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    margin = round(230 * scale)
    ink = 25
    draw.text(
        (width // 2, round(150 * scale)),
        "PEMERINTAH KABUPATEN SUKAMAJU",
        fill=ink,
        font=_font(round(56 * scale)),
        anchor="mt",
    )
    rule = round(250 * scale)
    draw.rectangle((margin, rule, width - margin, rule + round(8 * scale)), fill=ink)
    y = rule + round(70 * scale)
    for line in TITLES[kode]:
        draw.text((width // 2, y), line, fill=ink, font=_font(round(54 * scale)), anchor="mt")
        y += round(80 * scale)
    draw.text(
        (width // 2, y),
        f"Nomor: 800/{rnd.randint(100, 9999)}/BKPSDM/{rnd.randint(2015, 2025)}",
        fill=ink,
        font=_font(round(40 * scale)),
        anchor="mt",
    )
    y += round(110 * scale)
    body = _font(round(42 * scale))
    step = round(64 * scale)
    for nama, nip in people:
        draw.text((margin, y), f"Nama         : {nama}", fill=ink, font=body)
        y += step
        if nip_split:
            printed = format_nip(nip)
            draw.text((margin, y), f"NIP           : {printed[:15]}", fill=ink, font=body)
            y += step
            draw.text((margin + round(330 * scale), y), printed[15:], fill=ink, font=body)
        else:
            draw.text((margin, y), f"NIP           : {format_nip(nip)}", fill=ink, font=body)
        y += step
        draw.text(
            (margin, y), f"Pangkat/gol : Penata, III/{rnd.choice('abcd')}", fill=ink, font=body
        )
        y += round(90 * scale)
    while y < height - 2 * margin:
        words = " ".join(rnd.choice(_BODY) for _ in range(rnd.randint(7, 11)))
        draw.text((margin, y), words, fill=ink, font=body)
        y += step
    if skew:
        page = page.rotate(skew, Image.Resampling.BILINEAR, fillcolor=255)
    if noise:
        grain = Image.effect_noise((width, height), 18).convert("L")
        page = Image.blend(page, grain, 0.06).filter(ImageFilter.SMOOTH)
        page = page.point(lambda v: 255 if v > 225 else v)
    return page


def holder_document(
    *,
    kode: str,
    holders: Sequence[tuple[str, str]],
    dpi: int = 150,
    seed: int = 0,
) -> Image.Image:
    """A greyscale A4 page of kind `kode` that carries no NIP (an ijazah, a KTP, a
    collective SK listing people by name): title in capitals, then for each holder
    ((nama, line)) the name and a line such as "Tempat/Tgl Lahir : Sukamaju,
    11 April 1968" or "NIK : 3201...", then a few lines of text in lower case."""
    rnd = random.Random(f"holder-{kode}-{seed}")
    width, height = a4_pixels(dpi)
    scale = dpi / 300
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    margin = round(230 * scale)
    ink = 25
    y = round(150 * scale)
    for line in TITLES[kode]:
        draw.text((width // 2, y), line, fill=ink, font=_font(round(54 * scale)), anchor="mt")
        y += round(80 * scale)
    y += round(60 * scale)
    body = _font(round(42 * scale))
    step = round(64 * scale)
    for nama, line in holders:
        draw.text((margin, y), f"Nama : {nama}", fill=ink, font=body)
        y += step
        draw.text((margin, y), line, fill=ink, font=body)
        y += round(90 * scale)
    for _ in range(4):  # an ijazah or a KTP has little running text
        words = " ".join(rnd.choice(_BODY) for _ in range(rnd.randint(7, 11)))
        draw.text((margin, y), words, fill=ink, font=body)
        y += step
    grain = Image.effect_noise((width, height), 18).convert("L")
    page = Image.blend(page, grain, 0.06).filter(ImageFilter.SMOOTH)
    return page.point(lambda v: 255 if v > 225 else v)


def sheet(
    usulan_id: str, kode: str, *, nama: str = "", nip: str = "", dpi: int = 150
) -> Image.Image:
    """A printed separator sheet as the scanner sees it again, at `dpi`."""
    page = render_sheet(
        SheetLine(SheetCode(usulan_id, kode), nama_pegawai=nama, nip=nip, nama_dokumen=kode)
    )
    size = a4_pixels(dpi)
    if page.size != size:
        page = page.resize(size, Image.Resampling.BILINEAR)
    return page.rotate(0.4, Image.Resampling.BILINEAR, fillcolor=255)


def batch_pdf(path: Path, pages: Sequence[Image.Image], *, dpi: int = 150) -> Path:
    """One scanner PDF (a JPEG per page) of `pages`, in order."""
    return pdf_from_jpegs(path, [jpeg_bytes(p, dpi=dpi, quality=80) for p in pages], dpi=dpi)


def batch_tiff(path: Path, pages: Sequence[Image.Image], *, dpi: int = 150) -> Path:
    """One multi-page TIFF (LZW, greyscale) of `pages`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [p.convert("L") for p in pages]
    frames[0].save(
        path,
        "TIFF",
        save_all=True,
        append_images=frames[1:],
        compression="tiff_lzw",
        dpi=(dpi, dpi),
    )
    return path


def image_run(
    folder: Path,
    pages: Sequence[Image.Image],
    *,
    prefix: str = "scan",
    start: int = 1,
    dpi: int = 150,
) -> list[Path]:
    """A numbered run of JPEGs (scan0001.jpg, scan0002.jpg, ...), one per page."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, page in enumerate(pages, start=start):
        path = folder / f"{prefix}{n:04d}.jpg"
        path.write_bytes(jpeg_bytes(page.convert("L"), dpi=dpi, quality=80))
        paths.append(path)
    return paths


def truncate(path: Path, keep: float) -> Path:
    """Cut a file short, as a scan whose transfer stopped midway."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def jpeg(path: Path, page: Image.Image, *, dpi: int = 150) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    page.convert("L").save(out, "JPEG", quality=85, dpi=(dpi, dpi))
    path.write_bytes(out.getvalue())
    return path
