#!/usr/bin/env python3
"""Metrics of a running job (issue 6, item 5): a job reading a named pipe is held mid-input
while the test reads /metrics.json, /metrics and /: the JSON is well formed, its counts match
the records written so far and agree with each other, its graph has the program's edges, the
Prometheus text parses and says the same, the page drawn in headless Chromium shows every
operator with its counts, unknown paths are 404. Then the
input ends and the job finishes normally. Also: a port in use is exit 3 with a message, a bad
port exit 2, and a job in a terminal keeps a progress line that a redirected one never prints.

    metrics_test.py FLOWC
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from page_in_browser import drawn_page

FLOWC = os.path.abspath(sys.argv[1])
PROGRAM = """
schema E { k: i64, v: i64, ts: timestamp }
source events: E = file("in.fifo", format = csv) time ts watermark lag 1s
events
| filter v % 3 != 0
| aggregate by k over tumbling(1s) late 0s drop { n = count() }
| sink file("windows.csv", format = csv)
events | aggregate by k { total = sum(v) } | sink stdout()
"""
RECORDS = 30000
START = 1700000000000


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def lines(first, count):
    return "".join("%d,%d,%d\n" % (i % 10, i, START + i) for i in range(first, first + count))


def wait_for_port(stderr_path, process):
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(stderr_path) as f:
            found = re.search(r"metrics at http://127\.0\.0\.1:(\d+)/", f.read())
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            fail("the job ended before serving metrics")
        time.sleep(0.05)
    fail("no metrics address on stderr")


def check_running_job(work):
    os.mkfifo(os.path.join(work, "in.fifo"))
    with open(os.path.join(work, "stderr.txt"), "w") as err, open(os.path.join(work, "stdout.txt"), "w") as out:
        job = subprocess.Popen([FLOWC, "run", "job.flow", "--metrics-port", "0"], cwd=work, stdout=out, stderr=err)
    port = wait_for_port(os.path.join(work, "stderr.txt"), job)
    fifo = open(os.path.join(work, "in.fifo"), "w")
    fifo.write("k,v,ts\n" + lines(0, RECORDS))
    fifo.flush()

    deadline = time.time() + 30
    while True:
        status, body = get(port, "/metrics.json")
        if status != 200:
            fail("/metrics.json answered %d" % status)
        reading = json.loads(body)  # well formed, or this raises
        ops = {o["id"]: o for o in reading["operators"]}
        if ops["source-0"]["records_out"] == RECORDS:
            break
        if time.time() > deadline:
            fail("the reading never caught up with the input: %s" % body)
        time.sleep(0.05)

    if reading["job"] != "job.flow" or reading["status"] != "running":
        fail("job and status: %s" % body)
    if not 0 <= reading["reading_age_s"] < 30:
        fail("reading_age_s: %s" % body)
    passed = sum(1 for i in range(RECORDS) if i % 3 != 0)
    window, totals, windows_file, stdout = ops["window-0"], ops["aggregate-0"], ops["sink-0"], ops["sink-1"]
    if window["records_in"] != passed:
        fail("window records_in %d, expected %d" % (window["records_in"], passed))
    if windows_file["records_in"] != window["records_out"] or window["records_out"] <= 0:
        fail("the window emitted %d, its sink took %d" % (window["records_out"], windows_file["records_in"]))
    if totals["state_rows"] != 10 or totals["records_in"] != RECORDS or totals["records_out"] != 0 or stdout["records_in"] != 0:
        fail("unwindowed aggregate: %s, stdout %s" % (totals, stdout))
    expected_watermark = START + RECORDS - 1 - 1000
    if ops["source-0"]["watermark_ms"] != expected_watermark or window["watermark_ms"] != expected_watermark:
        fail("watermarks %s, expected %d" % (body, expected_watermark))
    if window["late_dropped"] != 0 or ops["source-0"].get("bytes_total") is not None:
        fail("late records or a size for a pipe: %s" % body)
    edges = {(e["from"], e["to"]) for e in reading["edges"]}
    if edges != {("source-0", "window-0"), ("source-0", "aggregate-0"), ("window-0", "sink-0"), ("aggregate-0", "sink-1")}:
        fail("edges %s" % sorted(edges))

    status, text = get(port, "/metrics")
    if status != 200:
        fail("/metrics answered %d" % status)
    samples = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        found = re.fullmatch(r'([a-z_]+)\{job="job\.flow"(?:,operator="([a-z0-9-]+)",kind="([a-z]+)")?\} (-?[0-9.e+]+)', line)
        if not found:
            fail("not a Prometheus sample: %r" % line)
        samples[(found.group(1), found.group(2))] = float(found.group(4))
    if samples.get(("flowc_records_out_total", "source-0")) != RECORDS:
        fail("Prometheus source count: %s" % text)
    if samples.get(("flowc_records_in_total", "window-0")) != passed:
        fail("Prometheus window count: %s" % text)

    status, page = get(port, "/")
    if status != 200 or "<svg" not in page or "/metrics.json" not in page:
        fail("the page: %d" % status)
    if get(port, "/nope")[0] != 404:
        fail("an unknown path is not 404")
    check_page_in_browser(port, work, passed)

    fifo.write(lines(RECORDS, 1000))
    fifo.close()
    if job.wait(timeout=60) != 0:
        fail("the job failed: " + open(os.path.join(work, "stderr.txt")).read())
    with open(os.path.join(work, "windows.csv")) as f:
        rows = f.read().splitlines()
    if len(rows) != 1 + 10 * 31:  # 31 seconds of input, 10 keys each
        fail("windows.csv has %d rows" % len(rows))
    return port


def check_page_in_browser(port, work, passed):
    """Headless Chromium runs the page's script: the graph it draws has every operator, the
    edges, and the live counts."""
    dom = drawn_page(port, work)
    if dom is None:
        fail("chromium is not installed (tools/dev.sh test installs it)")
    for operator in ("source-0", "aggregate-0", "window-0", "sink-0", "sink-1"):
        if 'data-operator="%s"' % operator not in dom:
            fail("the page drew no %s: %s" % (operator, dom[:2000]))
    if dom.count('class="edge"') != 4 or "(running)" not in dom:
        fail("the page's edges or status: %s" % dom[:2000])
    if ">in %d " % passed not in dom or ">out %d " % RECORDS not in dom:
        fail("the page's counts: %s" % dom[:3000])


def check_bad_ports(work):
    blocker = subprocess.Popen([FLOWC, "run", "job.flow", "--metrics-port", "0"], cwd=work,
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "blocker.txt"), "w"))
    port = wait_for_port(os.path.join(work, "blocker.txt"), blocker)
    taken = subprocess.run([FLOWC, "run", "job.flow", "--metrics-port", str(port)], cwd=work, capture_output=True, text=True)
    with open(os.path.join(work, "in.fifo"), "w") as fifo:  # lets the blocker end
        fifo.write("k,v,ts\n")
    blocker.wait(timeout=60)
    if taken.returncode != 3 or "error: metrics: cannot listen on port %d: Address already in use" % port not in taken.stderr:
        fail("a port in use: exit %d, %r" % (taken.returncode, taken.stderr))
    bad = subprocess.run([FLOWC, "run", "job.flow", "--metrics-port", "70000"], cwd=work, capture_output=True, text=True)
    if bad.returncode != 2 or "--metrics-port" not in bad.stderr:
        fail("a bad port: exit %d, %r" % (bad.returncode, bad.stderr))


def check_progress_line(work):
    def run(in_terminal):
        command = "%s run job.flow > out.txt" % FLOWC
        argv = ["script", "-qec", command, "/dev/null"] if in_terminal else ["bash", "-c", command + " 2> err.txt"]
        job = subprocess.Popen(argv, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        with open(os.path.join(work, "in.fifo"), "w") as fifo:
            fifo.write("k,v,ts\n" + lines(0, 1000))
            fifo.flush()
            time.sleep(1.5)  # progress lines come every half second
            fifo.write(lines(1000, 1000))
        shown = job.communicate(timeout=60)[0].decode(errors="replace")
        if job.returncode != 0:
            fail("the job in %s failed: %r" % ("a terminal" if in_terminal else "a file", shown))
        return shown if in_terminal else open(os.path.join(work, "err.txt")).read()
    if "records/s" not in run(True):
        fail("no progress line in a terminal")
    if "records/s" in run(False):
        fail("a progress line in a file")


with tempfile.TemporaryDirectory() as work:
    with open(os.path.join(work, "job.flow"), "w") as f:
        f.write(PROGRAM)
    check_running_job(work)
    check_bad_ports(work)
    check_progress_line(work)
print("ok: metrics of a running job")
