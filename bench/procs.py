# Child processes of a benchmark run: started, watched and always ended by PID.
# A Supervisor owns every process it spawns; leaving its `with` block (normal
# end, exception, Ctrl-C, SIGTERM turned into SystemExit by run.py) asks each
# child to stop (a command on stdin, then SIGTERM, then SIGKILL) and reaps it.
# Children get their own session so a terminal's Ctrl-C reaches only us and the
# shutdown order stays ours. Output goes to a log file and an in-memory list a
# reader thread fills; wait_for() matches regular expressions against it.
# Used from the main thread only (the reader threads only append lines).
import os
import re
import signal
import subprocess
import threading
import time


class ProcessError(RuntimeError):
    """A child did not behave: exited early, or printed nothing we waited for."""


class Proc:
    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._lines = []
        self._cond = threading.Condition()
        self._log = open(log_path, "w", buffering=1)
        self._log.write("$ " + " ".join(self.argv) + "\n")
        self.popen = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, bufsize=1,
                                      start_new_session=True, env=env)
        self._reader = threading.Thread(target=self._read, name=f"read-{name}", daemon=True)
        self._reader.start()

    @property
    def pid(self):
        return self.popen.pid

    def _read(self):
        for line in self.popen.stdout:
            self._log.write(line)
            with self._cond:
                self._lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def mark(self):
        """Position in the output; wait_for(since=mark) ignores older lines."""
        with self._cond:
            return len(self._lines)

    def lines(self, since=0):
        with self._cond:
            return self._lines[since:]

    def alive(self):
        return self.popen.poll() is None

    def send(self, text):
        if not self.alive():
            raise ProcessError(f"{self.name} exited with {self.popen.returncode}; see {self.log_path}")
        self.popen.stdin.write(text + "\n")
        self.popen.stdin.flush()

    def wait_for(self, pattern, timeout, since=0):
        """First match of `pattern` in lines[since:]; raises ProcessError on timeout or exit."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        checked = since
        with self._cond:
            while True:
                for index in range(checked, len(self._lines)):
                    match = regex.search(self._lines[index])
                    if match:
                        return match
                checked = len(self._lines)
                if self.popen.poll() is not None and not self._reader.is_alive():
                    raise ProcessError(f"{self.name} exited with {self.popen.returncode} before printing "
                                       f"/{pattern}/; see {self.log_path}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProcessError(f"{self.name}: no /{pattern}/ within {timeout} s; see {self.log_path}")
                self._cond.wait(min(remaining, 0.2))

    def stop(self, quit_command=None, grace=5.0):
        """End the process: `quit_command` on stdin if given, then SIGTERM, then SIGKILL."""
        if self.alive() and quit_command is not None:
            try:
                self.send(quit_command)
                self.popen.wait(grace)
            except (OSError, ProcessError, subprocess.TimeoutExpired):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not self.alive():
                break
            try:
                os.kill(self.pid, sig)
                self.popen.wait(grace)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.popen.wait()
        self._reader.join(grace)
        try:
            self.popen.stdin.close()
        except OSError:
            pass
        self._log.close()
        return self.popen.returncode


class Supervisor:
    """Every process spawned through it is ended when the `with` block is left."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self._procs = []
        self._count = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # A second Ctrl-C must not cut the clean-up short: hold the signals
        # until every child is gone, then let them through.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            self.stop_all()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return False

    def spawn(self, name, argv, quit_command=None, env=None):
        self._count += 1
        log_path = os.path.join(self.log_dir, f"{self._count:03d}-{name}.log")
        proc = Proc(name, argv, log_path, env)
        self._procs.append((proc, quit_command))
        return proc

    def stop(self, proc):
        """Stop one child now (later children first is the caller's business)."""
        for index, (owned, quit_command) in enumerate(self._procs):
            if owned is proc:
                del self._procs[index]
                return proc.stop(quit_command)
        return proc.popen.returncode

    def stop_all(self):
        # Newest first: the generator goes before the forwarder it feeds.
        while self._procs:
            proc, quit_command = self._procs.pop()
            proc.stop(quit_command)
