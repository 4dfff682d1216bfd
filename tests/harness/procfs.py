"""procfs.py: one reading of /proc/PID/stat for every test that needs
a process's name, state or parent.

The name (comm) may hold spaces and parentheses (a script can rename
itself to anything), so it is the text between the first "(" and the
last ")"; the fields after it are split on spaces."""
import collections
import os

Stat = collections.namedtuple('Stat', 'pid comm state ppid pgrp session')


def stat(pid):
    """Stat of pid; raises OSError when it is gone (or ValueError when
    /proc gave something unexpected)."""
    with open('/proc/%s/stat' % pid) as f:
        s = f.read()
    rest = s[s.rindex(')') + 2:].split()
    return Stat(int(pid), s[s.index('(') + 1:s.rindex(')')], rest[0],
                int(rest[1]), int(rest[2]), int(rest[3]))


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
