"""Persiapan awal: the first run of a new OPD home, in three steps the TUI walks.

1. Enrol this device with the BKD's server address and one-time code (the service
   `berkas enrol` uses), with the operator's and the device's names.
2. Import the pegawai from a CSV (`import_pegawai_csv`, with progress).
3. Choose the scan folder (created if missing, kept in berkas.toml).

Each step is done, skipped for now or still waiting; `[persiapan]` in berkas.toml keeps
that, so a flow left half-way resumes at the next start. A home set up before (enrolled
or holding pegawai) is never walked through it, nor is a verifikator's.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import col, func, select

from client._core import ClientCore
from client.config import PersiapanSettings, save_config
from client.errors import ClientError
from client.views import EnrolView, SetupState, SetupStep
from store.models import Pegawai

if TYPE_CHECKING:
    from sync.engine import ServerFacts

STEPS: tuple[tuple[str, str], ...] = (
    ("pendaftaran", "Daftar ke BKD"),
    ("impor", "Impor pegawai"),
    ("pindai", "Folder pindai"),
)
WAITING, DONE, SKIPPED = "menunggu", "selesai", "dilewati"


class SetupError(ClientError):
    """A first-run step was refused (a wrong code, an unreachable server, a bad folder)."""


class PersiapanService(ClientCore):
    """The first-run flow of this home."""

    def begin_setup(self) -> SetupState | None:
        """The flow to show at start, or None. A fresh home (not enrolled, no pegawai,
        never started the flow) starts it now; a flow left half-way resumes."""
        facts = self._enrolment()
        if facts is not None and facts.role == "verifikator":
            return None
        if self.config.persiapan is None:
            if facts is not None or self._pegawai_count():
                return None
            self.config.persiapan = PersiapanSettings()
            save_config(self.paths.config, self.config)
        state = self.setup_state()
        return state if state.current is not None else None

    def setup_state(self) -> SetupState:
        """Where each step stands (a step done elsewhere, e.g. `berkas enrol`, counts)."""
        facts = self._enrolment()
        progress = self.config.persiapan or PersiapanSettings(
            pendaftaran=DONE, impor=DONE, pindai=DONE
        )
        count = self._pegawai_count()
        folder = self._scan_folder()
        states = {
            "pendaftaran": DONE if facts is not None else progress.pendaftaran,
            "impor": progress.impor,
            "pindai": progress.pindai,
        }
        details = {
            "pendaftaran": (
                f"OPD {facts.opd_kode}, {facts.server_url}" if facts is not None else ""
            ),
            "impor": f"{count} pegawai" if count else "",
            "pindai": str(folder) if states["pindai"] == DONE else "",
        }
        steps = tuple(
            SetupStep(key=key, title=title, state=states[key], detail=details[key])
            for key, title in STEPS
        )
        current = next((s.key for s in steps if s.state == WAITING), None)
        return SetupState(
            steps=steps,
            current=current,
            enrolled=facts is not None,
            server_url=facts.server_url if facts is not None else self.config.server_url,
            operator=self.config.operator,
            device_name=default_device_name(self.config.operator),
            scan_folder=folder,
            pegawai=count,
        )

    def set_setup_step(self, key: str, state: str) -> SetupState:
        """Mark a step done, skipped, or waiting again (to walk it once more)."""
        if key not in dict(STEPS) or state not in (WAITING, DONE, SKIPPED):
            raise SetupError("Langkah persiapan tidak dikenal.", f"{key}={state}")
        progress = self.config.persiapan or PersiapanSettings(
            pendaftaran=DONE, impor=DONE, pindai=DONE
        )
        setattr(progress, key, state)
        self.config.persiapan = progress
        save_config(self.paths.config, self.config)
        return self.setup_state()

    def resume_setup(self) -> SetupState:
        """Offer the skipped steps again (from the Beranda or the command palette)."""
        progress = self.config.persiapan or PersiapanSettings(
            pendaftaran=DONE, impor=DONE, pindai=DONE
        )
        for key, _ in STEPS:
            if getattr(progress, key) == SKIPPED:
                setattr(progress, key, WAITING)
        if self._enrolment() is None:
            progress.pendaftaran = WAITING
        if not self._pegawai_count():
            progress.impor = WAITING
        self.config.persiapan = progress
        save_config(self.paths.config, self.config)
        return self.setup_state()

    def enrol_device(
        self, server_url: str, code: str, operator: str, device_name: str = ""
    ) -> EnrolView:
        """Step 1: enrol with the BKD server (as `berkas enrol` does) and remember the
        operator; this open installation then writes as the enrolled device."""
        url = normalise_server_url(server_url)
        code = code.strip()
        operator = " ".join(operator.split())
        if not code:
            raise SetupError("Isi kode pendaftaran dari admin BKD.")
        if not operator:
            raise SetupError("Isi nama Anda (operator): tercatat pada setiap perubahan.")
        from client import sync_service  # the sync engine loads when it is needed
        from sync.engine import Offline, ServerRefused

        self.config.operator = operator
        save_config(self.paths.config, self.config)
        name = " ".join(device_name.split()) or default_device_name(operator)
        try:
            result = sync_service.enrol(self.paths, url, code, device_name=name)
        except Offline as exc:
            guessed = "" if "://" in server_url else " (alamat tanpa http:// dianggap https://)"
            problem = (
                "nama servernya tidak ditemukan"
                if "DNS" in exc.message
                else "tidak ada jawaban dari sana"
            )
            raise SetupError(
                f"Server BKD di {url}{guessed} tidak dapat dihubungi: {problem}. Periksa "
                "alamatnya dan sambungan jaringan, lalu coba lagi.",
                exc.cause,
            ) from exc
        except ServerRefused as exc:
            if "404" in exc.cause:
                raise SetupError(
                    f"Alamat {url} bukan server Berkas BKD. Periksa alamat dari admin BKD.",
                    exc.cause,
                ) from exc
            raise SetupError(exc.message, exc.cause) from exc
        if result.role != "opd":
            raise SetupError(
                "Kode ini untuk perangkat verifikator BKD. Tutup Berkas lalu buka lagi: "
                "layar verifikator akan tampil.",
                f"role {result.role}",
            )
        # The installation now belongs to the enrolled device and OPD (enrol recorded
        # both in the store and the config): write as them from here on.
        from client.config import load_config

        fresh = load_config(self.paths.config)
        self.config.server_url = fresh.server_url
        self.config.opd_kode = fresh.opd_kode
        self.store.context.device_id = self.store.get_meta("device_id") or result.device_id
        self.store.context.opd_id = self.store.get_meta("opd_id") or result.opd_id
        self.store.context.person = operator
        self.set_setup_step("pendaftaran", DONE)
        return EnrolView(
            device_id=result.device_id,
            opd_kode=result.opd_kode,
            device_name=name,
            opd_key_held=result.opd_key_held,
        )

    def set_scan_folder(self, folder: str | Path) -> Path:
        """Step 3: the folder scans arrive in (created if missing), kept in berkas.toml."""
        text = str(folder).strip()
        if not text:
            raise SetupError("Isi folder tempat hasil pindaian disimpan.")
        chosen = Path(os.path.expandvars(text)).expanduser()
        if not chosen.is_absolute():
            chosen = Path.cwd() / chosen
        chosen = chosen.resolve()
        data = self.paths.data.resolve()
        if chosen == data or chosen in data.parents or chosen in self.paths.config_dir.parents:
            raise SetupError(
                f"Folder {chosen} berisi data Berkas sendiri; pilih folder lain, "
                f"misalnya {self.paths.scans}."
            )
        scans = self.paths.scans.resolve()
        if data in chosen.parents and chosen != scans and scans not in chosen.parents:
            raise SetupError(
                f"Folder {chosen} ada di dalam folder data Berkas; pilih {scans} atau "
                "folder di luar folder data."
            )
        try:
            chosen.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise SetupError(f"{chosen} adalah berkas, bukan folder.", repr(exc)) from exc
        except PermissionError as exc:
            raise SetupError(
                f"Folder {chosen} tidak boleh dibuat oleh pengguna ini; pilih folder lain.",
                repr(exc),
            ) from exc
        except OSError as exc:
            raise SetupError(f"Folder {chosen} tidak dapat dibuat.", repr(exc)) from exc
        if not chosen.is_dir():
            raise SetupError(f"{chosen} bukan folder.")
        if not os.access(chosen, os.R_OK | os.W_OK | os.X_OK):
            raise SetupError(
                f"Folder {chosen} tidak dapat dibaca dan ditulisi pengguna ini; pilih folder "
                "lain atau minta izinnya."
            )
        self.config.intake.scan_folders = [chosen]
        self.set_setup_step("pindai", DONE)  # saves the config with the folder
        return chosen

    def _enrolment(self) -> ServerFacts | None:
        from client.sinkronisasi import enrolment

        return enrolment(self.paths)

    def _pegawai_count(self) -> int:
        with self.store.read() as session:
            stmt = select(func.count()).select_from(Pegawai).where(col(Pegawai.deleted).is_(False))
            return int(session.exec(stmt).one())

    def _scan_folder(self) -> Path:
        folders = self.config.intake.scan_folders
        return folders[0] if folders else self.paths.scans


def normalise_server_url(text: str) -> str:
    """The server address as people type it: `bkd.example.go.id` means https."""
    url = text.strip().rstrip("/")
    if not url:
        raise SetupError("Isi alamat server BKD (mis. https://berkas.bkd.example.go.id).")
    if "://" not in url:
        url = f"https://{url}"
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https") or not url.split("://", 1)[1]:
        raise SetupError(
            f"Alamat server {text.strip()!r} tidak dikenali; tulis seperti "
            "https://berkas.bkd.example.go.id."
        )
    return url


def default_device_name(operator: str) -> str:
    """The name other devices show beside this one's changes: computer and operator."""
    host = platform.node() or "Perangkat"
    return f"{host} ({operator})" if operator else host
