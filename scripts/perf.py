#!/usr/bin/env python3
"""Measures the cockpit against the performance budget of the design guide
(section 7) on the real binary in a 120x40 pseudo-terminal:

  first full frame after launch, resident memory after 5 s idle, wakeups and
  bytes written while idle, CPU with ten quiet agents, key-press repaint
  latency, and the CPU and bytes of 50 key presses.

Usage: scripts/perf.py [path/to/fleetdeck]   (default: target/release/fleetdeck)
Only fleetdeck's own process is measured, not the agents it runs.
"""

import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import fcntl
import struct
import termios

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/fleetdeck")
TICK = os.sysconf("SC_CLK_TCK")


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True)


def wait_status(repo, status, count, timeout=30):
    """Polls `fleetdeck status --json` until `count` tasks have `status`."""
    import json
    end = time.monotonic() + timeout
    while True:
        out = subprocess.run([BIN, "-C", repo, "status", "--json"], capture_output=True, text=True).stdout
        tasks = json.loads(out)["tasks"] if out else []
        if sum(t["status"] == status for t in tasks) >= count:
            return
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {count} task(s) {status}")
        time.sleep(0.1)


def make_repo(tasks):
    repo = tempfile.mkdtemp(prefix="fleetdeck-perf-")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "perf")
    git(repo, "config", "user.email", "perf@example.invalid")
    plan = '[fleet]\nmax_parallel = 10\n[agents.sim]\ncommand = ["fleetdeck", "sim-agent", "{prompt}"]\nformat = "claude"\n'
    for i, script in enumerate(tasks):
        plan += f'\n[[task]]\nid = "t{i}"\nprompt = """{script}"""\n'
    with open(os.path.join(repo, "fleet.toml"), "w") as f:
        f.write(plan)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    return repo


class Cockpit:
    def __init__(self, repo):
        self.t0 = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.environ.pop("NO_COLOR", None)
            os.execv(BIN, [BIN, "-C", repo])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.pid, self.fd, self.out = pid, fd, bytearray()

    def read(self, timeout):
        """Reads what arrives within `timeout` seconds; returns the byte count."""
        n = 0
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return n
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return n
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return n
            self.out += data
            n += len(data)

    def wait_for(self, text, timeout=30):
        """Returns the moment `text` arrived (checked after every chunk read)."""
        end = time.monotonic() + timeout
        while text.encode() not in self.out:
            left = end - time.monotonic()
            if left <= 0:
                raise SystemExit(f"timed out waiting for {text!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    pass
        return time.monotonic()

    def cpu_seconds(self):
        fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def switches(self):
        """Context switches per thread (a wakeup is a switch back in)."""
        out = {}
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                lines = open(f"/proc/{self.pid}/task/{tid}/status").read().splitlines()
            except OSError:
                continue
            out[tid] = sum(int(l.split()[1]) for l in lines if "ctxt_switches" in l)
        return out

    def rss_mb(self):
        for line in open(f"/proc/{self.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    def key(self, k):
        os.write(self.fd, k)

    def quit(self):
        self.key(b"q")
        time.sleep(0.3)
        self.key(b"y")
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def main():
    if not os.path.exists(BIN):
        raise SystemExit(f"{BIN} not found: cargo build --release first")
    os.environ["PATH"] = os.path.dirname(BIN) + ":" + os.environ["PATH"]

    # An idle fleet: six tasks that finish at once and wait in review.
    idle_repo = make_repo([f"write f{i}.txt hi\\\\n" for i in range(6)])
    c = Cockpit(idle_repo)
    very_first = c.wait_for("quit") - c.t0  # creates .fleet/ and the database
    wait_status(idle_repo, "review", 6)
    c.quit()
    launches = []
    for _ in range(20):
        c = Cockpit(idle_repo)
        launches.append(c.wait_for("quit") - c.t0)
        c.key(b"q")
        os.waitpid(c.pid, 0)
    first = statistics.median(launches)
    c = Cockpit(idle_repo)
    c.wait_for("quit")
    c.read(5)
    rss = c.rss_mb()
    cpu0, sw0 = c.cpu_seconds(), c.switches()
    idle_bytes = c.read(10)
    idle_cpu = c.cpu_seconds() - cpu0
    sw1 = c.switches()
    idle_wakeups = sum(sw1[t] - sw0[t] for t in sw0 if t in sw1) / 10

    def presses(keys):
        lat, written = [], 0
        cpu0 = c.cpu_seconds()
        for i in range(50):
            t = time.monotonic()
            c.key(keys[i % 2])
            r, _, _ = select.select([c.fd], [], [], 1)
            if r:
                lat.append((time.monotonic() - t) * 1000)
            written += c.read(0.02)
        return lat, (c.cpu_seconds() - cpu0) * 1000, written

    c.key(b"ll")  # the Review column, with the six cards
    c.read(0.3)
    lat, keys_cpu, written = presses([b"j", b"k"])
    lat_cols, cols_cpu, cols_written = presses([b"l", b"h"])
    c.quit()

    # Ten quiet agents: each sleeps for ten minutes.
    busy_repo = make_repo(["sleep 600000"] * 10)
    b = Cockpit(busy_repo)
    wait_status(busy_repo, "running", 10)
    b.read(2)
    cpu0 = b.cpu_seconds()
    busy_bytes = b.read(30)
    busy_cpu = (b.cpu_seconds() - cpu0) * 1000
    b.quit()

    print(f"binary: {BIN}")
    print(f"first full frame after launch:      {first * 1000:7.1f} ms   (budget 22 ms; median of 20 launches, from fork to the frame)")
    print(f"  the very first launch in a new repository (creates the database): {very_first * 1000:.1f} ms")
    print(f"resident memory after 5 s idle:     {rss:7.1f} MB   (budget 10 MB)")
    print(f"idle: wakeups per second:           {idle_wakeups:7.2f}      (budget 0)")
    print(f"idle: bytes written in 10 s:        {idle_bytes:7d}      (budget 0)")
    print(f"idle: CPU in 10 s:                  {idle_cpu * 1000:7.1f} ms")
    print(f"ten quiet agents: CPU per 30 s:     {busy_cpu:7.1f} ms   (budget 150 ms), {busy_bytes} bytes written")
    print(f"key press to repaint, median:       {statistics.median(lat):7.2f} ms   (budget 6 ms; {len(lat)} of 50 answered)")
    print(f"50 key presses (j/k in a column):   CPU {keys_cpu:.1f} ms (budget 20 ms), {written} bytes written (budget 20 KB)")
    print(f"50 key presses (l/h across columns): CPU {cols_cpu:.1f} ms, {cols_written} bytes written, median {statistics.median(lat_cols):.2f} ms")
    shutil.rmtree(idle_repo, ignore_errors=True)
    shutil.rmtree(busy_repo, ignore_errors=True)


if __name__ == "__main__":
    main()
