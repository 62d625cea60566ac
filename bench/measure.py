#!/usr/bin/env python3
"""measure.py: runs one command and measures it as a whole process tree, for bench/run.sh.

    bench/measure.py [--interval 0.05] [--shm-prefix vhs-] --out RESULT.json -- CMD ARGS...

Starts CMD, and every --interval seconds sums Pss (from /proc/PID/smaps_rollup) over CMD and
all its descendants: Pss splits each shared page between the processes that map it, so
shared-memory rings are counted once, not once per mapping process. The maximum of that sum
is the tree's peak memory. Also samples the total size of /dev/shm/<prefix><CMD pid>-*
objects (shown separately: their mapped pages are already inside Pss). At the end writes
JSON: wall_s, user_s, sys_s (the tree's CPU time: CMD's rusage including the children it
reaped), peak_pss_kb, peak_shm_kb, samples, exit (CMD's exit status, 128+N for a signal), and cpu_by_process:
CPU seconds by process name (comm), each process's last sample, so a process's final
--interval is missed: a guide to where the CPU went, not an account.
CMD's stdout and stderr pass through.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time


def children_map():
    """ppid -> [pid] for every process now alive."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # comm may hold spaces and parentheses: the fields after the last ')' are fixed.
        rest = stat[stat.rindex(b")") + 2:].split()
        kids.setdefault(int(rest[1]), []).append(int(name))
    return kids


def task_children(pid):
    """pid's children from /proc/PID/task/*/children (cheap); None where the kernel lacks it."""
    kids = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(k) for k in f.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}/children") and os.path.exists(f"/proc/{pid}"):
                return None
        except OSError:
            pass
    return kids


def tree(root):
    """root and all its descendants."""
    out, todo, kids = [], [root], None
    while todo:
        pid = todo.pop()
        out.append(pid)
        if kids is None:
            found = task_children(pid)
            if found is not None:
                todo.extend(found)
                continue
            kids = children_map()
        todo.extend(kids.get(pid, []))
    return out


TICK = os.sysconf("SC_CLK_TCK")


def cpu_sample(pid):
    """(comm, user+sys seconds) of pid, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    comm = stat[stat.index(b"(") + 1:stat.rindex(b")")].decode(errors="replace")
    rest = stat[stat.rindex(b")") + 2:].split()
    return comm, (int(rest[11]) + int(rest[12])) / TICK


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def shm_kb(prefix, pid):
    total = 0
    want = f"{prefix}{pid}-"
    try:
        names = os.listdir("/dev/shm")
    except OSError:
        return 0
    for name in names:
        if name.startswith(want):
            try:
                total += os.stat(f"/dev/shm/{name}").st_blocks * 512
            except OSError:
                pass
    return total // 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--shm-prefix", default="vhs-")
    ap.add_argument("--out", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command")

    t0 = time.monotonic()
    proc = subprocess.Popen(cmd)
    peak_pss = peak_shm = samples = 0
    cpu = {}  # pid -> (comm, seconds at its last sample)
    status = None
    while status is None:
        pids = tree(proc.pid)
        for p in pids:
            c = cpu_sample(p)
            if c:
                cpu[p] = c
        peak_pss = max(peak_pss, sum(pss_kb(p) for p in pids))
        peak_shm = max(peak_shm, shm_kb(args.shm_prefix, proc.pid))
        samples += 1
        deadline = time.monotonic() + args.interval
        while status is None and time.monotonic() < deadline:
            pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, rusage = st, ru
                break
            time.sleep(0.005)
    wall = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(status)
    result = {
        "cmd": cmd,
        "wall_s": round(wall, 3),
        "user_s": round(rusage.ru_utime, 3),
        "sys_s": round(rusage.ru_stime, 3),
        "peak_pss_kb": peak_pss,
        "peak_shm_kb": peak_shm,
        "samples": samples,
        "exit": code if code >= 0 else 128 - code,
        "cpu_by_process": {},
    }
    for comm, sec in cpu.values():
        result["cpu_by_process"][comm] = round(result["cpu_by_process"].get(comm, 0) + sec, 2)
    with open(args.out, "w") as f:
        json.dump(result, f)
        f.write("\n")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
