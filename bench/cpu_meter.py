# How much CPU time processes other than the run's own took on the run's CPUs
# during its measured window: busy jiffies of those CPUs (/proc/stat: user,
# nice, system, irq, softirq) minus the CPU time of the run's processes
# (/proc/PID/stat utime + stime, which covers all their threads; for this
# harness also cutime + cstime: the ovs-vsctl/ovs-appctl it ran and waited
# for). The rest, in CPUs (1.0 = one CPU all the time), is interference: a
# build, another engineer's daemon, kernel threads. Steal time (another guest
# on the host) is not counted: the guest cannot see who took it.
# Pure parsing functions plus CpuMeter, used from run.py's main thread.
import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
BUSY_FIELDS = (0, 1, 2, 5, 6)  # user nice system [idle iowait] irq softirq


def busy_jiffies(proc_stat_text, cpus):
    """Busy jiffies of `cpus` (CPU numbers) from the text of /proc/stat."""
    total = 0
    wanted = {f"cpu{c}" for c in cpus}
    for line in proc_stat_text.splitlines():
        fields = line.split()
        if fields and fields[0] in wanted:
            values = [int(v) for v in fields[1:]]
            total += sum(values[i] for i in BUSY_FIELDS if i < len(values))
    return total


def process_jiffies(pid_stat_text, children=False):
    """utime + stime (and cutime + cstime with `children`) from /proc/PID/stat.
    The command name may hold spaces and parentheses: fields start after the last ')'."""
    fields = pid_stat_text[pid_stat_text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return utime + stime + (cutime + cstime if children else 0)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


class CpuMeter:
    """start() at the window's start, stop() at its end -> other processes' CPUs.
    `pids`: the run's processes (generator, device under test)."""

    def __init__(self, cpus, pids):
        self.cpus = sorted(set(cpus))
        self._pids = list(pids)
        self._start = None

    def _snapshot(self):
        own = process_jiffies(_read("/proc/self/stat"), children=True)
        for pid in self._pids:
            text = _read(f"/proc/{pid}/stat")
            if text is not None:  # one that exited mid-window is the run's failure, not interference
                own += process_jiffies(text)
        return time.monotonic(), busy_jiffies(_read("/proc/stat"), self.cpus), own

    def start(self):
        self._start = self._snapshot()

    def stop(self):
        """Other processes' CPU use over the window, in CPUs (never below 0)."""
        t1, busy1, own1 = self._snapshot()
        t0, busy0, own0 = self._start
        return max(0.0, ((busy1 - busy0) - (own1 - own0)) / CLK_TCK / (t1 - t0))
