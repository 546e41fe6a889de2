"""Typed crypto errors: a Bahasa Indonesia message for the person, a technical cause for the log.

No error carries key material, passphrases or plaintext: `str(e)` is safe to log.
"""

from __future__ import annotations

from typing import ClassVar

from store.errors import BerkasError


class CryptoError(BerkasError):
    """Something cryptographic was refused; `.message` is for the person, `.cause` for the log.

    Arguments in the root's order (message, cause); without a message the class's
    `default_message` is used, so most raises pass only `cause=`.
    """

    default_message: ClassVar[str] = "Terjadi kesalahan kriptografi."

    def __init__(self, message: str | None = None, cause: str = "") -> None:
        super().__init__(message or self.default_message, cause)


class KeyEncodingError(CryptoError):
    """A public or private key in text form is not 32 bytes of unpadded base64url."""

    default_message = "Kunci tidak valid: bentuk teksnya rusak atau bukan kunci 32 bita."


class KeyFileError(CryptoError):
    """A key file is missing, unreadable, malformed or not safe to use."""

    default_message = "Berkas kunci perangkat tidak dapat dibaca atau rusak."


class InsecureKeyFile(KeyFileError):
    """The key file can be read (or written) by other users; we refuse to use it."""

    default_message = (
        "Berkas kunci dapat dibaca pengguna lain. Batasi izinnya (chmod 600) lalu coba lagi."
    )


class PassphraseRequired(KeyFileError):
    """The key file is protected and no passphrase was given."""

    default_message = "Berkas kunci dilindungi frasa sandi. Masukkan frasa sandinya."


class WrongPassphrase(KeyFileError):
    """The passphrase does not open the key file (or the protected part was altered)."""

    default_message = "Frasa sandi salah, atau berkas kunci telah diubah."


class EnvelopeError(CryptoError):
    """A sealed envelope is malformed, altered, truncated, or not for this key.

    `.reason` is one of "malformed", "unsupported_version", "not_recipient", "tampered".
    """

    default_message = "Data terenkripsi rusak atau tidak ditujukan untuk perangkat ini."

    def __init__(self, reason: str, cause: str, *, message: str | None = None) -> None:
        super().__init__(message, f"{reason}: {cause}")
        self.reason = reason


class StreamError(CryptoError):
    """An encrypted document stream is malformed, altered, truncated, extended, or not ours.

    `.reason` is one of "malformed", "unsupported_version", "not_recipient", "tampered",
    "truncated", "extended", "wrong_content", "too_many_recipients".
    """

    default_message = "Dokumen terenkripsi rusak atau tidak utuh."

    def __init__(self, reason: str, cause: str, *, message: str | None = None) -> None:
        super().__init__(message, f"{reason}: {cause}")
        self.reason = reason


SIGNATURE_MESSAGES: dict[str, str] = {
    "malformed": "Permintaan tidak bertanda tangan atau tanda tangannya tidak terbaca.",
    "bad_signature": "Tanda tangan permintaan tidak sah.",
    "unknown_device": "Perangkat tidak dikenal atau sudah dicabut. Daftarkan ulang perangkat ini.",
    "stale_timestamp": (
        "Jam komputer ini berbeda lebih dari 5 menit dari server. "
        "Periksa tanggal dan jam komputer, lalu coba lagi."
    ),
    "replayed_nonce": "Permintaan yang sama sudah pernah diterima (kemungkinan dikirim ulang).",
}


class SignatureError(CryptoError):
    """A signed request was refused; `.reason` is a stable code for the wire (`kode`).

    Codes: "malformed", "bad_signature", "unknown_device", "stale_timestamp", "replayed_nonce".
    """

    default_message = SIGNATURE_MESSAGES["bad_signature"]

    def __init__(self, reason: str, cause: str) -> None:
        super().__init__(SIGNATURE_MESSAGES.get(reason), f"{reason}: {cause}")
        self.reason = reason
