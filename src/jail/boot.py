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
#
# Grading (POST /evaluate, function mode): the worker also writes the
# case file .pyexec-case (entry point, arguments as Python literals). It
# is read and removed before any of the user's code runs; fd 3 then stays
# open after "ok" and carries one more line once the call returns:
#   value <TAB> literal                 the returned value, plain data only
#   error <TAB> (type, message, traceback)
# The value is written from exact types (type(x) is int, never
# isinstance), so a subclass with its own __eq__ or __repr__ is refused by
# name; the worker parses the line strictly and compares it outside the
# jail. The expected values never come here.
import sys

_pyexec_type = type
_pyexec_CASE = '.pyexec-case'


def _pyexec_case():
    """The grading case, or None; gone from /work before user code runs."""
    import os
    try:
        fd = os.open(_pyexec_CASE, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, 'rb') as f:
        data = f.read()
    os.unlink(_pyexec_CASE)
    lines = data.decode('utf-8').split('\n')
    if lines[0] != 'pyexec-case 1' or len(lines) < 5:
        raise SystemExit('pyexec: bad case file')
    return lines[1], lines[2], lines[3], int(lines[4])


def _pyexec_boot(mode, allowed):
    import _ast
    allowed = frozenset(allowed.split(','))
    case = _pyexec_case()

    def report(line):
        data = line.encode('utf-8', 'backslashreplace') + b'\n'
        while data:
            data = data[_os.write(3, data):]
        if case is None:
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
    if case is not None:
        code = _pyexec_grader(code, case)
    return code, main.__dict__


class _PyexecUnsupported(Exception):
    pass


def _pyexec_grader(code, case):
    """Module code, then the call; the result goes to fd 3 as plain data.
    Returns what the caller execs in place of the module code."""
    import ast
    import os
    import traceback
    entry, args_text, kwargs_text, cap = case
    t = _pyexec_type
    simple = {int: int.__repr__, float: float.__repr__, str: str.__repr__}

    class Names(ast.NodeTransformer):
        # The worker writes these; nan and inf are the only names.
        def visit_Name(self, node):
            if node.id in ('nan', 'inf'):
                return ast.Constant(float(node.id))
            return node

    def lit(text):
        return ast.literal_eval(Names().visit(ast.parse(text, mode='eval')))

    def ser(v, out, depth, size):
        ty = t(v)
        if depth > 30:
            raise _PyexecUnsupported('a value nested deeper than 30 levels')
        if v is None or ty is bool:
            s = repr(v) if v is None else ('True' if v else 'False')
        elif ty in simple:
            s = simple[ty](v)
        elif ty is list or ty is tuple or ty is set or ty is frozenset:
            if ty is list:
                out.append('[')
            elif ty is tuple:
                out.append('(')
            elif not v:
                out.append('set()')
                return size + 5
            else:
                out.append('{')
            n = 0
            for x in list(v):
                size = ser(x, out, depth + 1, size + 2)
                out.append(', ')
                n += 1
            if ty is tuple and n == 1:
                out.append(',')
            elif n:
                out.pop()
            out.append(']' if ty is list else ')' if ty is tuple else '}')
            return size + 2
        elif ty is dict:
            out.append('{')
            for k, x in list(dict.items(v)):
                size = ser(k, out, depth + 1, size + 2)
                out.append(': ')
                size = ser(x, out, depth + 1, size + 2)
                out.append(', ')
            if len(out) and out[-1] == ', ':
                out.pop()
            out.append('}')
            return size + 2
        else:
            raise _PyexecUnsupported(
                'the returned value contains a %s, which is not plain data '
                '(None, bool, int, float, str, list, tuple, set, dict)'
                % getattr(ty, '__qualname__', '?'))
        size += len(s)
        if size > cap:
            raise _PyexecUnsupported('the returned value is larger than '
                                     '%d bytes' % cap)
        out.append(s)
        return size

    def send(line):
        data = line.encode('utf-8', 'surrogatepass') + b'\n'
        try:
            while data:
                data = data[os.write(3, data):]
            os.close(3)
        except OSError:
            pass

    def err(kind, e=None, message=None):
        if message is None:
            try:
                message = str(e)
            except BaseException:
                message = '<unprintable %s>' % kind
        tb = ''
        if e is not None:
            try:
                frames = [f for f in traceback.extract_tb(e.__traceback__)
                          if f.filename == 'script.py']
                tb = ('Traceback (most recent call last):\n' +
                      ''.join(traceback.format_list(frames)) +
                      '%s: %s\n' % (kind, message))
            except BaseException:
                tb = ''
        send('error\t(%s, %s, %s)' % (str.__repr__(str(kind)[:200]),
                                      str.__repr__(str(message)[:2000]),
                                      str.__repr__(str(tb)[-8000:])))

    def run(g):
        try:
            args = lit(args_text)
            kwargs = lit(kwargs_text)
            exec(code, g)
            name, _, attr = entry.partition('.')
            if name.endswith('()'):
                obj = g[name[:-2]]()
            else:
                obj = g[name]
            fn = getattr(obj, attr) if attr else obj
            value = fn(*args, **kwargs)
        except KeyError as e:
            if e.__traceback__ is not None and e.__traceback__.tb_next:
                return err('KeyError', e)
            return err('NameError', None, 'name %r is not defined in the '
                       'submission' % (e.args[0] if e.args else entry))
        except SystemExit as e:
            return err('SystemExit', None, 'the submission called '
                       'sys.exit(%r) instead of returning' % (e.code,))
        except BaseException as e:
            return err(getattr(t(e), '__name__', 'Exception'), e)
        try:
            out = []
            ser(value, out, 0, 0)
        except _PyexecUnsupported as e:
            return err('UnsupportedType', None, e.args[0])
        except RecursionError:
            return err('UnsupportedType', None, 'the returned value is '
                       'nested too deeply')
        except BaseException as e:
            return err(getattr(t(e), '__name__', 'Exception'), e)
        send('value\t' + ''.join(out))

    return run


def _pyexec_run_inproc(mode, allowed):
    """The zygote's way in: run the code in this (forked) interpreter and
    do what python3 does at exit, returning the exit status."""
    status = 0
    try:
        code, g = _pyexec_boot(mode, allowed)
        if callable(code):
            code(g)
        else:
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
        if callable(_pyexec_code):
            _pyexec_code(_pyexec_globals)
        else:
            exec(_pyexec_code, _pyexec_globals)
    except SystemExit:
        raise
    except BaseException as _pyexec_e:
        # Drop this bootstrap's own frame so the traceback starts in script.py.
        _tb = _pyexec_e.__traceback__
        _pyexec_e.__traceback__ = _tb.tb_next if _tb else None
        sys.excepthook(type(_pyexec_e), _pyexec_e, _pyexec_e.__traceback__)
        sys.exit(1)
