"""Streaming document encryption: throughput and memory, 20 MB against 200 MB.

Each measurement runs in a fresh subprocess. After imports and key loading the child resets
its RSS high-water mark (Linux: /proc/self/clear_refs), so "peak" is the highest RSS while
streaming and "growth" is peak minus the RSS just before (elsewhere ru_maxrss, which
includes the import peak). A second pass under tracemalloc shows the Python heap peak.
Flat figures across a 10x larger file mean memory is constant in the file size.

    .venv/bin/python bench/crypto.py [--sizes 20,200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000
TARGET_MB_S = 200.0


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> int:
    """Current RSS in KiB, with the high-water mark reset to it where the OS allows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return _status_kib("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_rss() -> int:
    return _status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(op: str, src: Path, dst: Path, key_path: Path, trace: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from sync.crypto import decrypt_stream, encrypt_stream, load_key_file

    keys = load_key_file(key_path)
    private = keys.x25519("encryption")
    recipients = [private.public_key(), keys.x25519("verifier").public_key()]
    baseline_kib = _reset_peak_rss()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    with src.open("rb") as fin, dst.open("wb") as fout:
        if op == "encrypt":
            encrypt_stream(fin, fout, recipients)
        else:
            decrypt_stream(fin, fout, private)
    seconds = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else None
    peak_kib = _peak_rss()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "baseline_kib": baseline_kib,
                "peak_kib": peak_kib,
                "traced_peak": traced_peak,
            }
        )
    )


def _run(op: str, src: Path, dst: Path, key_path: Path, trace: bool) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", op, str(src), str(dst), str(key_path)]
    if trace:
        args.append("--trace")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def _write_plaintext(path: Path, size: int) -> str:
    rng = random.Random(size)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            chunk = rng.randbytes(min(left, 1 << 20))
            digest.update(chunk)
            fh.write(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,200", help="plaintext sizes in MB (10^6 bytes)")
    parser.add_argument("--child", nargs=4, metavar=("OP", "SRC", "DST", "KEYS"))
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    if args.child:
        op, src, dst, keys = args.child
        _child(op, Path(src), Path(dst), Path(keys), args.trace)
        return 0

    sys.path.insert(0, str(ROOT))
    from sync.crypto import PrivateKeySet, generate_x25519, save_key_file
    from sync.crypto.encoding import PrivateKey

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; MB = 10^6 bytes")
    print(
        f"{'size':>7} {'op':>8} {'MB/s':>8} {'baseline RSS':>13} {'peak RSS':>9} "
        f"{'growth':>8} {'py heap peak':>13}"
    )
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="berkas-bench-") as tmp:
        folder = Path(tmp)
        key_path = folder / "keys.json"
        named: dict[str, PrivateKey] = {
            "encryption": generate_x25519(),
            "verifier": generate_x25519(),
        }
        save_key_file(key_path, PrivateKeySet(named))
        for size_mb in (int(s) for s in args.sizes.split(",")):
            size = size_mb * MB
            plain, cipher, back = (folder / n for n in ("plain", "cipher", "back"))
            expected = _write_plaintext(plain, size)
            for op, src, dst in (("encrypt", plain, cipher), ("decrypt", cipher, back)):
                timed = _run(op, src, dst, key_path, trace=False)
                traced = _run(op, src, dst, key_path, trace=True)
                rate = size / MB / timed["seconds"]
                growth = (timed["peak_kib"] - timed["baseline_kib"]) / 1024
                print(
                    f"{size_mb:>4} MB {op:>8} {rate:>8.0f} "
                    f"{timed['baseline_kib'] / 1024:>10.1f} MB {timed['peak_kib'] / 1024:>6.1f} MB "
                    f"{growth:>5.1f} MB {traced['traced_peak'] / 1024:>9.0f} KiB"
                )
                if rate < TARGET_MB_S:
                    verdicts.append(f"{op} {size_mb} MB: {rate:.0f} MB/s < {TARGET_MB_S:.0f}")
            if _sha256(back) != expected:
                print(f"round trip of {size_mb} MB did not give the plaintext back")
                return 1
            print(f"{size_mb:>4} MB round trip verified ({cipher.stat().st_size} ciphertext bytes)")
            for path in (plain, cipher, back):
                path.unlink()
    print("target >= 200 MB/s each way: " + ("met" if not verdicts else "; ".join(verdicts)))
    return 1 if verdicts else 0


if __name__ == "__main__":
    sys.exit(main())
