"""Office throughput and latency, DOCX -> PDF on real corpus files, three ways in the same run:

1. cold: `soffice --headless --convert-to pdf` per file, each with a new profile (what every job
   paid before the warm listener);
2. one warm unoserver listener (unoserver from PyPI, its server on the LibreOffice python), one
   `unoconvert` call per file, one after the other;
3. this service end to end over its API (gunicorn as `make run`, one worker with two processes,
   each with its own warm LibreOffice): upload every file, wait until all are completed, download.

Also single-document latency: upload -> completed -> downloaded for one file, versus one warm
`unoconvert` call for the same file (medians).

Files: the DOCX rows of ../shared/corpus/MANIFEST.tsv (ANCLORA_CORPUS to point elsewhere), each
REPEAT times. Targets (printed, not asserted): service >= 3x cold and >= 1.0x the warm listener;
latency <= 2x one warm unoconvert call.

Run: .venv/bin/python bench/office.py
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import BASE_DIR, PYTHON, Stack, free_port, median, result_line  # noqa: E402

CORPUS = Path(os.environ.get("ANCLORA_CORPUS", BASE_DIR.parent / "shared" / "corpus"))
REPEAT = 4
LATENCY_RUNS = 3
POLL = 0.02
TARGET_COLD, TARGET_WARM, TARGET_LATENCY = 3.0, 1.0, 2.0


def corpus_docx() -> list[Path]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [CORPUS / r["path"] for r in rows
            if r["path"].endswith(".docx") and (CORPUS / r["path"]).exists()]


def soffice() -> str:
    from conversions.engines.libreoffice import soffice_binary

    found = soffice_binary()
    if not found:
        raise SystemExit("LibreOffice (soffice) is not installed: nothing to compare")
    return found


def cold_one(src: Path, tmp: Path) -> None:
    work = Path(tempfile.mkdtemp(dir=tmp))
    from conversions.engines.office_profile import profile_write

    profile_write(work / "profile")
    subprocess.run([soffice(), "--headless", "--norestore", "--nologo", "--nolockcheck", "--nodefault",
                    f"-env:UserInstallation={(work / 'profile').as_uri()}", "--convert-to",
                    "pdf:writer_pdf_Export", "--outdir", str(work / "out"), str(src)],
                   check=True, capture_output=True, timeout=300, env={**os.environ, "HOME": str(work)})
    if not any((work / "out").glob("*.pdf")):
        raise RuntimeError(f"cold soffice made no PDF of {src.name}")
    shutil.rmtree(work, ignore_errors=True)


class Unoserver:
    """unoserver's server on the LibreOffice python (it needs `uno`), its client from this venv."""

    def __init__(self, tmp: Path) -> None:
        import unoserver

        from conversions.engines.office_server import office_python

        python = office_python()
        if python is None:
            raise SystemExit("no python with uno (python3-uno): no warm listener to compare")
        pkg = tmp / "unoserver-path"
        pkg.mkdir()
        site = Path(unoserver.__file__).parent.parent
        for entry in [site / "unoserver", *site.glob("unoserver-*.dist-info")]:  # code + its version
            (pkg / entry.name).symlink_to(entry)
        self.port, uno_port = free_port(), free_port()
        self.log = open(tmp / "unoserver.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [python, "-m", "unoserver.server", "--interface", "127.0.0.1", "--port", str(self.port),
             "--uno-port", str(uno_port), "--user-installation", str(tmp / "unoserver-profile"),
             "--executable", soffice()],
            env={**os.environ, "PYTHONPATH": str(pkg), "HOME": str(tmp)}, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"unoserver did not start: {(tmp / 'unoserver.log').read_text()[-2000:]}")
            time.sleep(0.1)

    def convert(self, src: Path, dst: Path) -> None:
        subprocess.run([str(PYTHON.with_name("unoconvert")), "--host", "127.0.0.1", "--port", str(self.port),
                        "--convert-to", "pdf", str(src), str(dst)], check=True, capture_output=True, timeout=300)

    def close(self) -> None:
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait(10)
        self.log.close()


def wait_done(stack: Stack, ids: list[str], token: str) -> list[dict]:
    deadline = time.monotonic() + 600
    pending = set(ids)
    details = {}
    while pending:
        for cid in list(pending):
            detail = stack.conversion(cid, token=token)
            if detail["status"] not in ("pending", "processing"):
                details[cid] = detail
                pending.discard(cid)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} office jobs still running")
        if pending:
            time.sleep(POLL)
    failed = [d for d in details.values() if d["status"] != "completed"]
    if failed:
        raise RuntimeError(f"{len(failed)} office jobs failed: {failed[0].get('error')}")
    return [details[cid] for cid in ids]


def service_batch(stack: Stack, files: list[Path], token: str) -> float:
    started = time.perf_counter()
    ids = []
    for src in files:
        status, body = stack.upload(src, "pdf", token=token)
        if status != 202:
            raise RuntimeError(f"upload refused: {status} {body}")
        ids.append(body["conversions"][0]["id"])
    for detail in wait_done(stack, ids, token):
        stack.download(detail["download_url"], token=token)
    return time.perf_counter() - started


def main() -> dict:
    files = corpus_docx()
    if not files:
        print(f"office: the corpus folder {CORPUS} (MANIFEST.tsv with .docx rows) is absent: skipped", flush=True)
        result_line("office", absent=True, corpus=str(CORPUS))
        return {"absent": True}
    tmp = Path(tempfile.mkdtemp(prefix="anclora-office-bench-"))
    figures: dict = {}
    try:
        unoserver = Unoserver(tmp)
        try:
            usable = []
            for src in files:  # warm-up, and which files the warm listener converts at all
                try:
                    unoserver.convert(src, tmp / f"warmup-{src.stem}.pdf")
                    usable.append(src)
                except subprocess.CalledProcessError as exc:
                    print(f"    unoserver refuses {src.name} ({exc.stderr.decode(errors='replace')[-120:].strip()}): "
                          "left out of every column", flush=True)
            batch = [src for _ in range(REPEAT) for src in usable]
            print(f"office: {len(batch)} DOCX -> PDF ({len(usable)} corpus files x {REPEAT}); "
                  f"load average {os.getloadavg()[0]:.2f}", flush=True)
            started = time.perf_counter()
            for i, src in enumerate(batch):
                unoserver.convert(src, tmp / f"warm-{i}.pdf")
            warm_s = time.perf_counter() - started
            latency_file = usable[0]
            warm_latency = []
            for i in range(LATENCY_RUNS):
                started = time.perf_counter()
                unoserver.convert(latency_file, tmp / f"lat-{i}.pdf")
                warm_latency.append(time.perf_counter() - started)
        finally:
            unoserver.close()
        started = time.perf_counter()
        for src in batch:
            cold_one(src, tmp)
        cold_s = time.perf_counter() - started

        with Stack(web_server="gunicorn") as stack:
            token = stack.user_token()
            stack.start_worker(concurrency=2)
            service_batch(stack, usable[:2], token)  # each worker process starts its listener
            service_s = service_batch(stack, batch, token)
            latencies = []
            for _ in range(LATENCY_RUNS):
                latencies.append(service_batch(stack, [latency_file], token))
        n = len(batch)
        rates = {"cold": n / cold_s, "warm_unoserver": n / warm_s, "service": n / service_s}
        lat_service, lat_warm = median(latencies), median(warm_latency)
        figures = {
            "files": [p.name for p in usable], "documents": n,
            "docs_per_s": {k: round(v, 2) for k, v in rates.items()},
            "service_vs_cold": round(rates["service"] / rates["cold"], 2),
            "service_vs_warm": round(rates["service"] / rates["warm_unoserver"], 2),
            "latency_ms": {"service": round(lat_service * 1000), "unoconvert": round(lat_warm * 1000)},
            "latency_ratio": round(lat_service / lat_warm, 2),
        }
        figures["met"] = {"vs_cold": figures["service_vs_cold"] >= TARGET_COLD,
                          "vs_warm": figures["service_vs_warm"] >= TARGET_WARM,
                          "latency": figures["latency_ratio"] <= TARGET_LATENCY}
        print(f"  cold soffice per file: {rates['cold']:.2f} docs/s | one warm unoserver listener: "
              f"{rates['warm_unoserver']:.2f} docs/s | service (2 warm workers): {rates['service']:.2f} docs/s",
              flush=True)
        print(f"  service = {figures['service_vs_cold']}x cold (target >= {TARGET_COLD}x), "
              f"{figures['service_vs_warm']}x warm listener (target >= {TARGET_WARM}x)", flush=True)
        print(f"  latency {latency_file.name}: service {lat_service * 1000:.0f} ms vs unoconvert "
              f"{lat_warm * 1000:.0f} ms = {figures['latency_ratio']}x (target <= {TARGET_LATENCY}x)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result_line("office", **figures)
    return figures


if __name__ == "__main__":
    main()
