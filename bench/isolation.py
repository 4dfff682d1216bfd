"""isolation.py: runs bench/isolation as the service would run: as the
unprivileged pyexec user, in a delegated cgroup v1 subtree, with a private
runtime directory. Prints the table that goes in the README.

    python3 bench/isolation.py [RUNS]      (as root; default 300 runs)
"""
import os
import pwd
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'harness'))
import stack  # noqa: E402

binary = os.path.join(HERE, '..', 'build', 'bench', 'isolation')
zygote_src = os.path.join(HERE, '..', 'build', 'src', 'pyexec-zygote')
runs = sys.argv[1] if len(sys.argv) > 1 else '300'
stack.ensure_user()
pw = pwd.getpwnam(stack.SERVICE_USER)
base = tempfile.mkdtemp(prefix='pyexec-bench-', dir='/run')
os.chmod(base, 0o755)
rt = os.path.join(base, 'rt')
os.mkdir(rt, 0o700)
os.chown(rt, pw.pw_uid, pw.pw_gid)
zygote = os.path.join(base, 'pyexec-zygote')
subprocess.run(['cp', zygote_src, zygote], check=True)
os.chmod(zygote, 0o755)
cgs = []
for ctl, d in stack.cgroup_v1_dirs(os.path.basename(base)).items():
    os.mkdir(d)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    cgs.append(d)


def drop():
    for d in cgs:
        with open(os.path.join(d, 'cgroup.procs'), 'w') as f:
            f.write(str(os.getpid()))
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)


try:
    subprocess.run([binary, rt, runs, zygote], check=True, preexec_fn=drop)
finally:
    for d in cgs:
        for sub in os.listdir(d):
            if os.path.isdir(os.path.join(d, sub)):
                os.rmdir(os.path.join(d, sub))
        os.rmdir(d)
    subprocess.run(['rm', '-rf', base])
