# How much CPU time processes other than the run's own took during its
# measured window, in CPUs (1.0 = one CPU all the time). Two ways:
# - CpuMeter (the memif runs, which own named CPUs): busy jiffies of the run's
#   CPUs (/proc/stat: user, nice, system, irq, softirq) minus the CPU time of
#   the run's processes (/proc/PID/stat utime + stime, which covers all their
#   threads; for this harness also cutime + cstime: the ovs-vsctl/ovs-appctl
#   it ran and waited for). The rest is interference: a build, another
#   engineer's daemon, kernel threads.
# - OthersMeter (the container path, whose run uses every CPU: iperf3 or the
#   load generators in both containers, the kernel's bridging in softirq,
#   dpdockd): the CPU time of every user-space process outside the harness's
#   own process tree, summed over /proc/PID/stat (utime + stime + cutime +
#   cstime: a compiler that ran and was reaped inside the window is in its
#   parent's cutime). Kernel threads (ksoftirqd, kworkers) and irq/softirq
#   time are not counted: here they carry the run's own packets.
# Steal time (another guest on the host) is counted by neither: the guest
# cannot see who took it. Pure parsing functions plus the two meters, used
# from run.py's main thread.
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


def stat_fields(pid_stat_text):
    """/proc/PID/stat's fields from field 3 (state) on: fields[1] is the
    parent's pid, fields[6] the flags, fields[11:15] utime, stime, cutime,
    cstime. The command name may hold spaces and parentheses: fields start
    after the last ')'."""
    return pid_stat_text[pid_stat_text.rindex(")") + 2:].split()


def fields_jiffies(fields, children=False):
    """utime + stime (and cutime + cstime with `children`) from stat_fields()."""
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return utime + stime + (cutime + cstime if children else 0)


def process_jiffies(pid_stat_text, children=False):
    return fields_jiffies(stat_fields(pid_stat_text), children)


PF_KTHREAD = 0x00200000  # include/linux/sched.h


def others_jiffies(stats, root):
    """CPU time (with reaped children's) of the user-space processes in `stats`
    ({pid: /proc/PID/stat text}) that are neither `root` nor its descendants."""
    fields = {pid: stat_fields(text) for pid, text in stats.items()}
    parent = {pid: int(f[1]) for pid, f in fields.items()}
    ours = {root}

    def is_ours(pid):
        chain = []
        while pid not in ours and pid in parent and len(chain) < 4096:
            chain.append(pid)
            pid = parent[pid]
        if pid in ours:
            ours.update(chain)
            return True
        return False

    return sum(fields_jiffies(f, children=True) for pid, f in fields.items()
               if not int(f[6]) & PF_KTHREAD and not is_ours(pid))


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


def _all_stats():
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (text := _read(f"/proc/{name}/stat")) is not None:
            stats[int(name)] = text
    return stats


class OthersMeter:
    """start() at the window's start, stop() at its end -> the CPUs used by
    user-space processes outside this process's tree (see the top)."""

    def __init__(self):
        self._start = None

    def _snapshot(self):
        return time.monotonic(), others_jiffies(_all_stats(), os.getpid())

    def start(self):
        self._start = self._snapshot()

    def stop(self):
        t1, others1 = self._snapshot()
        t0, others0 = self._start
        return max(0.0, (others1 - others0) / CLK_TCK / (t1 - t0))
