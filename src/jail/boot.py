# boot.py: the first Python that runs in the jail (python3 -I -u -c).
#
# It parses the user's code, applies the import policy for public callers,
# reports one verdict line on fd 3 and closes it, then runs the code as
# __main__ the way `python3 script.py` would. It runs inside the sandbox:
# the worker never parses Python. The import policy is a courtesy, not a
# boundary (__import__, exec and re-exported modules walk around it); the
# namespaces, seccomp and limits are the boundary.
#
# Verdict lines (tab-separated, one line):
#   ok
#   syntax <TAB> line <TAB> offset <TAB> message
#   forbidden <TAB> name,name,...
import sys

# matplotlib's backend in the jail (MPLBACKEND=module://_pyexec_mpl): Agg,
# whose show() saves every open figure as /work/figure_N.png (N counting
# up over the run) and closes it, as a window the user closed would be:
# a one-shot run has no screen, and return_files ["figure_*.png"] brings
# the figures back. Loaded only when a script plots.
_PYEXEC_MPL = """
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas
from matplotlib.backends.backend_agg import FigureManagerBase as FigureManager
_saved = 0


def show(*args, **kwargs):
    global _saved
    import matplotlib.pyplot as plt
    for num in plt.get_fignums():
        _saved += 1
        plt.figure(num).savefig('/work/figure_%d.png' % _saved)
    plt.close('all')
"""


class _PyexecMplFinder:
    """Finds the one module _pyexec_mpl, from _PYEXEC_MPL."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != '_pyexec_mpl':
            return None
        import importlib.util
        return importlib.util.spec_from_loader(name, cls)

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        exec(compile(_PYEXEC_MPL, '<pyexec matplotlib backend>', 'exec'),
             module.__dict__)


sys.meta_path.append(_PyexecMplFinder)


def _pyexec_preload_plots():
    """The zygote's preload: pyplot with its backend, one figure drawn so
    that Agg, the fonts and the font list are loaded once, before any fork.
    matplotlib builds its font list (~0.8 s) in a private directory that is
    gone afterwards; the runs inherit the list in memory and use /tmp in
    their jail for anything matplotlib writes later."""
    import io
    import os
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix='pyexec-mpl-')
    try:
        os.environ['MPLCONFIGDIR'] = d
        import matplotlib
        import matplotlib.font_manager as fm
        import matplotlib.pyplot as plt
        fig = plt.figure()
        plt.plot([0, 1], [0, 1])
        plt.title('warm')
        fig.savefig(io.BytesIO(), format='png')
        plt.close('all')
        # A cached font holds its file open: the jail closes every fd the
        # zygote had, so drop them here and let each run reopen its own.
        fm._get_font.cache_clear()
    finally:
        shutil.rmtree(d, ignore_errors=True)
        os.environ['MPLCONFIGDIR'] = '/tmp/.matplotlib'

    def here():
        os.makedirs('/tmp/.matplotlib', exist_ok=True)
        return '/tmp/.matplotlib'
    matplotlib.get_configdir = matplotlib.get_cachedir = here


def _pyexec_boot(mode, allowed):
    import _ast
    allowed = frozenset(allowed.split(','))

    def report(line):
        data = line.encode('utf-8', 'backslashreplace') + b'\n'
        while data:
            data = data[_os.write(3, data):]
        _os.close(3)

    import os as _os
    with open('script.py', 'rb') as f:
        source = f.read()
    try:
        tree = compile(source, 'script.py', 'exec', _ast.PyCF_ONLY_AST,
                       dont_inherit=True)
        # The compile stage has syntax errors the parser does not see:
        # 'return' or 'yield' outside a function, misplaced global and
        # nonlocal, duplicate arguments. They too are reported before any
        # of the user's code runs. RecursionError: nesting too deep for
        # the compiler, which python3 script.py also refuses up front.
        code = compile(tree, 'script.py', 'exec', dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError) as e:
        line = getattr(e, 'lineno', None) or 0
        offset = getattr(e, 'offset', None) or 0
        msg = (getattr(e, 'msg', None) or str(e)).replace('\t', ' ')
        report('syntax\t%d\t%d\t%s' % (line, offset,
                                        msg.replace('\n', ' ')))
        sys.exit(0)

    if mode == 'public':
        bad = []
        stack = [tree]
        while stack:
            node = stack.pop()
            names = ()
            if isinstance(node, _ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, _ast.ImportFrom) and not node.level:
                names = [node.module or '']
            for n in names:
                top = n.split('.')[0]
                if top not in allowed and top not in bad:
                    bad.append(top)
            for field in node._fields:
                v = getattr(node, field, None)
                if isinstance(v, list):
                    stack.extend(x for x in v if isinstance(x, _ast.AST))
                elif isinstance(v, _ast.AST):
                    stack.append(v)
        if bad:
            report('forbidden\t' + ','.join(sorted(bad)))
            sys.exit(0)

    report('ok')
    # A fresh __main__, as `python3 script.py` would have; the bootstrap's
    # own module keeps its names to itself.
    main = type(sys)('__main__')
    main.__file__ = 'script.py'
    main.__builtins__ = __builtins__
    main.__loader__ = main.__spec__ = main.__cached__ = None
    sys.modules['__main__'] = main
    sys.argv[:] = ['script.py']
    return code, main.__dict__


def _pyexec_run_inproc(mode, allowed):
    """The zygote's way in: run the code in this (forked) interpreter and
    do what python3 does at exit, returning the exit status."""
    status = 0
    try:
        code, g = _pyexec_boot(mode, allowed)
        exec(code, g)
    except SystemExit as e:
        status = _pyexec_exit_status(e)
    except BaseException as e:
        tb = e.__traceback__
        e.__traceback__ = tb.tb_next if tb else None
        sys.excepthook(type(e), e, e.__traceback__)
        status = 1
    # Py_FinalizeEx's duties: join non-daemon threads, atexit, flush.
    threading = sys.modules.get('threading')
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException:
            pass
    import atexit
    atexit._run_exitfuncs()
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:
            status = status or 120
    return status


def _pyexec_exit_status(e):
    # As Python's own handling of an uncaught SystemExit.
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xff
    try:
        print(code, file=sys.stderr)
    except BaseException:
        pass
    return 1


if __name__ == '__main__':
    # exec mode: python3 -I -u -c BOOT MODE ALLOWED
    _pyexec_code, _pyexec_globals = _pyexec_boot(sys.argv[1], sys.argv[2])
    try:
        exec(_pyexec_code, _pyexec_globals)
    except SystemExit:
        raise
    except BaseException as _pyexec_e:
        # Drop this bootstrap's own frame so the traceback starts in script.py.
        _tb = _pyexec_e.__traceback__
        _pyexec_e.__traceback__ = _tb.tb_next if _tb else None
        sys.excepthook(type(_pyexec_e), _pyexec_e, _pyexec_e.__traceback__)
        sys.exit(1)
