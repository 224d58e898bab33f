"""The metrics web page as headless Chromium draws it, for the tests that check it."""
import shutil
import subprocess
import tempfile


def drawn_page(port, work):
    """The DOM of http://127.0.0.1:PORT/ after its script has run (3 s of virtual time), or
    None when Chromium is not installed (tools/dev.sh test installs it)."""
    browser = shutil.which("chromium")
    if not browser:
        return None
    profile = tempfile.mkdtemp(dir=work)
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--user-data-dir=" + profile, "--virtual-time-budget=3000", "--dump-dom",
                           "http://127.0.0.1:%d/" % port], capture_output=True, text=True, timeout=120).stdout
