"""procfs.py: one reading of /proc/PID/stat for every test that needs
a process's name, state or parent.

The name (comm) may hold spaces and parentheses (a script can rename
itself to anything), so it is the text between the first "(" and the
last ")"; the fields after it are split on spaces."""
import collections
import os

# The counters (proc(5) fields 10-17 and 22): page faults and CPU clock
# ticks of the process itself and of the children it reaped (c...), and
# its start time in ticks after boot (with pid, a name no reuse repeats).
Stat = collections.namedtuple(
    'Stat', 'pid comm state ppid pgrp session minflt cminflt majflt '
    'cmajflt utime stime cutime cstime starttime')


def stat(pid):
    """Stat of pid; raises OSError when it is gone (or ValueError when
    /proc gave something unexpected)."""
    with open('/proc/%s/stat' % pid) as f:
        s = f.read()
    rest = s[s.rindex(')') + 2:].split()
    # rest[0] is field 3 (state): field n is rest[n - 3].
    return Stat(int(pid), s[s.index('(') + 1:s.rindex(')')], rest[0],
                *(int(rest[n - 3]) for n in (4, 5, 6, 10, 11, 12, 13, 14,
                                             15, 16, 17, 22)))


def stat_or_none(pid):
    try:
        return stat(pid)
    except (OSError, ValueError):
        return None


def all_stats():
    """Stat of every process that still exists while /proc is read."""
    out = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            st = stat_or_none(d)
            if st is not None:
                out.append(st)
    return out


def running(pid):
    """Alive and not a zombie waiting to be reaped."""
    st = stat_or_none(pid)
    return st is not None and st.state != 'Z'


def traced(pid):
    """Has a tracer (strace) attached to pid? True once it is gone too:
    there is nothing left to wait for."""
    try:
        with open('/proc/%s/status' % pid) as f:
            for line in f:
                if line.startswith('TracerPid:'):
                    return int(line.split()[1]) != 0
    except OSError:
        return True
    return False
