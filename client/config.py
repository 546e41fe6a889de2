"""The OPD client's settings, read from `berkas.toml` in the config folder."""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from client.errors import ClientError
from client.intake import IntakeSettings


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval_minutes: float = Field(default=5.0, gt=0)
    jitter_seconds: float = Field(default=30.0, ge=0)
    # rclone-style timetable for large uploads, e.g. "08:00,256k 16:00,off"
    upload_window: str = ""


class PersiapanSettings(BaseModel):
    """Where the first-run flow of a new home stands: each step "menunggu" (still to do),
    "selesai" or "dilewati" (skipped for now; the Beranda offers it again)."""

    model_config = ConfigDict(extra="forbid")

    pendaftaran: str = "menunggu"
    impor: str = "menunggu"
    pindai: str = "menunggu"


class ClientConfig(BaseModel):
    """What an OPD installation needs to know about itself."""

    model_config = ConfigDict(extra="forbid")

    opd_kode: str = ""
    operator: str = ""  # the person using this machine, stamped on history
    server_url: str = ""
    rules_override: Path | None = None  # the BKD's own rules TOML
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    # Verifikator TUI: minutes without a key press after which the verifier key's
    # passphrase is forgotten and asked again.
    verifikator_kunci_menit: float = Field(default=15.0, gt=0)
    # The first-run flow; absent on a home set up before it existed (never offered there).
    persiapan: PersiapanSettings | None = None
    # Verifikator: days an usulan may wait for the BKD after it was submitted before the
    # queue and the rekap call it overdue (the BKD's service level).
    verifikator_batas_hari: int = Field(default=14, gt=0, le=365)


def load_config(path: Path) -> ClientConfig:
    """The config at `path`, or defaults when there is none yet."""
    if not path.exists():
        return ClientConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return ClientConfig.model_validate(data)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ClientError(f"Berkas pengaturan {path} tidak dapat dibaca.", repr(exc)) from exc
    except ValidationError as exc:
        raise ClientError(f"Isi berkas pengaturan {path} tidak valid: {exc}", repr(exc)) from exc


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def save_config(path: Path, config: ClientConfig) -> None:
    """Write the config (atomically) as TOML."""
    data = config.model_dump(mode="json", exclude_none=True)
    lines = ["# Pengaturan Berkas (OPD). Ubah dengan hati-hati.", ""]
    tables: dict[str, dict[str, object]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            tables[key] = value
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for name, table in tables.items():
        lines += ["", f"[{name}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A temp name of its own (0600 from mkstemp): two processes saving at once must not
    # write into one shared temp file and publish a mix of both.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
