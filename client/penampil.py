"""The document viewer's source on the OPD side: a scan in the Kotak masuk or a dokumen
of an usulan, decrypted in memory (never to a file) and checked against its sha256."""

from __future__ import annotations

from client._core import ClientCore
from client.errors import ClientError
from store.models import Dokumen, InboxItem


class PenampilService(ClientCore):
    """The viewer's PDF bytes (the decryption and the check are ClientCore._plaintext)."""

    def inbox_pdf(self, item_id: str) -> bytes:
        with self.store.read() as session:
            item = session.get(InboxItem, item_id)
            sha = item.sha256 if item is not None else ""
        if not sha:
            raise ClientError("Pindaian tidak ditemukan.", item_id)
        return self._plaintext(sha)

    def dokumen_pdf(self, dokumen_id: str) -> bytes:
        with self.store.read() as session:
            dokumen = session.get(Dokumen, dokumen_id)
            sha = dokumen.sha256 if dokumen is not None and not dokumen.deleted else ""
        if not sha:
            raise ClientError("Dokumen tidak ditemukan.", dokumen_id)
        return self._plaintext(sha)
