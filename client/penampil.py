"""The document viewer's source on the OPD side: a scan in the Kotak masuk or a dokumen
of an usulan, decrypted in memory (never to a file) and checked against its sha256."""

from __future__ import annotations

import hashlib
import io

from client._core import ClientCore
from client.errors import BerkasError, ClientError
from store.models import Dokumen, InboxItem


class PenampilService(ClientCore):
    def inbox_pdf(self, item_id: str) -> bytes:
        with self.store.read() as session:
            item = session.get(InboxItem, item_id)
            sha = item.sha256 if item is not None else ""
        if not sha:
            raise ClientError("Pindaian tidak ditemukan.", item_id)
        return self._plaintext_of(sha)

    def dokumen_pdf(self, dokumen_id: str) -> bytes:
        with self.store.read() as session:
            dokumen = session.get(Dokumen, dokumen_id)
            sha = dokumen.sha256 if dokumen is not None and not dokumen.deleted else ""
        if not sha:
            raise ClientError("Dokumen tidak ditemukan.", dokumen_id)
        return self._plaintext_of(sha)

    def _plaintext_of(self, sha: str) -> bytes:
        blobs = self._blob_store()
        source = blobs.path_for(sha)
        if not source.is_file():
            raise ClientError("Dokumen belum ada di perangkat ini.", f"missing blob {sha[:12]}")
        out = io.BytesIO()
        try:
            with source.open("rb") as src:
                blobs.cipher.decrypt(src, out)
        except BerkasError as exc:
            raise ClientError(f"Dokumen tidak dapat dibuka: {exc.message}", exc.cause) from exc
        data = out.getvalue()
        if hashlib.sha256(data).hexdigest() != sha:
            raise ClientError("Dokumen tidak cocok dengan sidik jarinya.", f"sha {sha[:12]}")
        return data
