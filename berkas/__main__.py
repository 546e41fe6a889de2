"""`python -m berkas`: the same program as the `berkas` command."""

from __future__ import annotations

from berkas.cli import main

main()
