"""Warm LibreOffice listener: run by the LibreOffice python (the one with ``uno``), never imported.

Started by ``office_server.OfficeListener`` as ``python3 -I _office_bridge.py SOFFICE_BIN PROFILE PIPE``.
It starts ``soffice.bin`` headless, accepting UNO on a private named pipe (a unix socket only
this user reaches, no TCP port), with the hardened profile the cold path uses, and then serves
one JSON request per stdin line, one JSON answer per stdout line:

    {"src": "/abs/in.docx", "dst": "/abs/out.pdf", "filter": "writer_pdf_Export",
     "options": "", "infilter": ""}
    -> {"ok": true} | {"ok": false, "error": "load_failed"|"store_failed"|"crashed", "detail": "..."}

It lives exactly as long as its worker: stdin EOF (the worker closed the pipe or died) stops
LibreOffice and exits; the worker also gets it SIGKILLed when the worker itself dies
(PR_SET_PDEATHSIG), and LibreOffice gets SIGKILLed when this bridge dies (same mechanism).
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue

PR_SET_PDEATHSIG = 1
START_TIMEOUT = float(os.environ.get("ANCLORA_OFFICE_START_TIMEOUT", "60"))


def _die_with_parent():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def _props(**values):
    return tuple(PropertyValue(Name=k, Value=v) for k, v in values.items())


def _answer(payload):
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def _connect(pipe, launch, state):
    """Desktop of the listener; a first start on a new profile exits with 81 (restart wanted), as
    oosplash would, start it again."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        code = state["office"].poll()
        if code == 81:
            state["office"] = launch()
        elif code is not None:
            raise RuntimeError(f"soffice exited with {code} while starting")
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:  # NoConnectException until the listener is up
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _convert(desktop, request):
    src_url = uno.systemPathToFileUrl(request["src"])
    dst_url = uno.systemPathToFileUrl(request["dst"])
    # Never run macros, never update links or external content, never show anything.
    load = dict(Hidden=True, ReadOnly=True, MacroExecutionMode=0, UpdateDocMode=0, Silent=True)
    if request.get("infilter"):
        infilter, _, infilter_options = request["infilter"].partition(":")
        load["FilterName"] = infilter
        if infilter_options:
            load["FilterOptions"] = infilter_options
    try:
        document = desktop.loadComponentFromURL(src_url, "_blank", 0, _props(**load))
    except Exception as exc:
        if "Disposed" in type(exc).__name__ or "disposed" in str(exc).lower():
            raise
        return {"ok": False, "error": "load_failed", "detail": f"{type(exc).__name__}: {exc}"[:2000]}
    if document is None:
        return {"ok": False, "error": "load_failed", "detail": "loadComponentFromURL returned nothing"}
    try:
        store = dict(FilterName=request["filter"], Overwrite=True)
        if request.get("options"):
            store["FilterOptions"] = request["options"]
        try:
            document.storeToURL(dst_url, _props(**store))
        except Exception as exc:
            if "Disposed" in type(exc).__name__:
                raise
            return {"ok": False, "error": "store_failed", "detail": f"{type(exc).__name__}: {exc}"[:2000]}
        return {"ok": True}
    finally:
        try:
            document.close(True)
        except Exception:
            pass


def _launch(soffice, profile, pipe):
    return subprocess.Popen(
        [soffice, "--headless", "--invisible", "--nocrashreport", "--nodefault", "--nologo",
         "--nofirststartwizard", "--norestore", "--nolockcheck",
         f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sys.stderr,
        close_fds=True, preexec_fn=_die_with_parent,
    )


def main():
    soffice, profile, pipe = sys.argv[1:4]
    state = {"office": _launch(soffice, profile, pipe)}

    def stop(*_):
        try:
            state["office"].kill()
        except OSError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        desktop = _connect(pipe, lambda: _launch(soffice, profile, pipe), state)
    except Exception as exc:
        _answer({"ready": False, "detail": f"{type(exc).__name__}: {exc}"[:2000]})
        stop()
    _answer({"ready": True, "pid": state["office"].pid})
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            _answer({"ok": False, "error": "bad_request", "detail": "not JSON"})
            continue
        try:
            _answer(_convert(desktop, request))
        except Exception as exc:  # the connection is gone: LibreOffice crashed or was killed
            _answer({"ok": False, "error": "crashed", "detail": f"{type(exc).__name__}: {exc}"[:2000]})
            stop()
    stop()  # stdin closed: our worker is gone or done with us


if __name__ == "__main__":
    main()
