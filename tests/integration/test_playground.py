"""The web playground at /, in a real browser (headless Chromium) against
the real stack: it runs code and shows the output, an error, an image,
stdin and a file round trip; it is served with a strict CSP and breaks
none of it; it fits a phone-width screen. Screenshots go to
build/playground-*.png (docs/playground.png is one of them, committed)."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'harness'))
import browser  # noqa: E402

MODES = ('zygote',)		# the page does not depend on the run mode
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SHOTS = os.path.join(REPO, 'build')

_drv = {}


def driver(stack):
    if 'd' not in _drv:
        assert browser.available(), 'chromium and chromium-driver are needed'
        _drv['d'] = browser.new_driver()
    d = _drv['d']
    d.get('https://%s:%d/' % (stack.host, stack.port))
    wait(d, lambda d: d.execute_script('return document.body.dataset.ready'))
    return d


def wait(d, cond, timeout=120):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(d, timeout, poll_frequency=0.1).until(cond)


def set_value(d, elem_id, text):
    # send_keys would go through the editor's own key handling (Tab
    # indents); the tests set values the way a paste would.
    d.execute_script('const e = document.getElementById(arguments[0]);'
                     'e.value = arguments[1];'
                     'e.dispatchEvent(new Event("input"));', elem_id, text)


def run(d, code, stdin='', ret='', keys=False):
    set_value(d, 'code', code)
    set_value(d, 'stdin', stdin)
    set_value(d, 'return-files', ret)
    before = int(d.execute_script('return document.body.dataset.runs || 0'))
    if keys:
        from selenium.webdriver.common.keys import Keys
        d.find_element('id', 'code').send_keys(Keys.CONTROL, Keys.ENTER)
    else:
        d.find_element('id', 'run').click()
    wait(d, lambda d: int(d.execute_script(
        'return document.body.dataset.runs || 0')) > before)


def text(d, elem_id):
    e = d.find_element('id', elem_id)
    return e.get_attribute('textContent') if e.is_displayed() else None


def console_errors(d):
    """Script errors and CSP violations; an HTTP error status the page
    handled (network) is not one."""
    return [e for e in d.get_log('browser') if e['level'] == 'SEVERE' and
            e.get('source') != 'network']


def test_page_is_static_with_strict_csp(s):
    for path in ('/', '/playground.js', '/playground.css', '/openapi.json'):
        st, h, body = s.request('GET', path)
        assert st == 200, (path, st)
        csp = h.get('content-security-policy', '')
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, csp
        assert "frame-ancestors 'none'" in csp, csp
        assert h.get('x-content-type-options') == 'nosniff'
    st, h, body = s.request('GET', '/')
    assert h['content-type'].startswith('text/html'), h
    page = body.decode()
    # Nothing from another origin, nothing inline for the CSP to refuse.
    for bad in ('http://', '<script>', ' style=', 'onclick', 'javascript:'):
        assert bad not in page.replace('https://', ''), bad
    assert 'https://' not in page


def test_runs_code_and_shows_output(s):
    d = driver(s)
    console_errors(d)		# forget earlier tests' messages
    run(d, 'print("hello from the browser", 6 * 7)')
    assert text(d, 'stdout') == 'hello from the browser 42\n', text(d, 'stdout')
    assert text(d, 'exit') == '0'
    assert text(d, 'termination') == 'exited'
    assert text(d, 'duration') not in (None, '', '–')
    assert 'request id' in text(d, 'meta')
    assert not d.find_element('id', 'error').is_displayed()
    # Ctrl+Enter in the editor runs too; no CSP violation or script error.
    run(d, 'print("again")', keys=True)
    assert text(d, 'stdout') == 'again\n'
    errors = console_errors(d)
    assert errors == [], errors


def test_editor_keys(s):
    from selenium.webdriver.common.keys import Keys
    d = driver(s)
    set_value(d, 'code', '')
    ed = d.find_element('id', 'code')
    ed.click()
    ed.send_keys('if True:', Keys.ENTER, Keys.TAB, 'pass')
    assert ed.get_attribute('value') == 'if True:\n    pass', \
        repr(ed.get_attribute('value'))
    ed.send_keys(Keys.SHIFT, Keys.TAB)
    assert ed.get_attribute('value') == 'if True:\npass'
    # Esc, then Tab leaves the editor (no keyboard trap).
    ed.send_keys(Keys.ESCAPE, Keys.TAB)
    active = d.switch_to.active_element
    assert active.get_attribute('id') != 'code'


def test_shows_errors(s):
    d = driver(s)
    run(d, 'def f(:\n  pass')
    err = d.find_element('id', 'error')
    assert err.is_displayed() and err.get_attribute('role') == 'alert'
    assert 'Syntax error' in err.text and 'line 1' in err.text, err.text
    run(d, 'import sys\nprint("out")\nraise ValueError("boom")')
    assert text(d, 'stdout') == 'out\n'
    assert 'ValueError: boom' in text(d, 'stderr')
    assert text(d, 'exit') == '1'
    assert 'bad' in d.find_element('id', 'exit').get_attribute('class')


def test_wrong_key_explained(s):
    # A wrong key is refused (401), and the page says what to do about it.
    d = driver(s)
    set_value(d, 'api-key', 'not-the-admin-key-0123456789')
    try:
        run(d, 'print(1)')
        err = d.find_element('id', 'error')
        assert err.is_displayed() and 'Wrong API key' in err.text, err.text
        assert 'empty the API key field' in err.text, err.text
    finally:
        set_value(d, 'api-key', '')
    run(d, 'print(2)')
    assert text(d, 'stdout') == '2\n'


def test_stdin(s):
    d = driver(s)
    run(d, 'import sys\nprint(sys.stdin.read().upper(), end="")',
        stdin='first\nsecond\n')
    assert text(d, 'stdout') == 'FIRST\nSECOND\n'


def test_image_shown_inline(s):
    d = driver(s)
    run(d, 'from PIL import Image\nImage.new("RGB", (64, 32), (200, 30, 30))'
        '.save("plot.png")', ret='plot.png')
    img = wait(d, lambda d: d.find_element('css selector', '#outfiles img'))
    wait(d, lambda d: d.execute_script(
        'return arguments[0].complete && arguments[0].naturalWidth', img))
    assert d.execute_script('return [arguments[0].naturalWidth, '
                            'arguments[0].naturalHeight]', img) == [64, 32]
    assert img.get_attribute('src').startswith('blob:')
    assert 'plot.png' in img.get_attribute('alt')


def test_file_round_trip(s):
    d = driver(s)
    data = bytes(range(256)) * 3
    dl = tempfile.mkdtemp(prefix='pyexec-dl-')
    with tempfile.NamedTemporaryFile(suffix='.bin', delete=False) as f:
        f.write(data)
    try:
        d.find_element('id', 'files').send_keys(f.name)
        name = os.path.basename(f.name)
        wait(d, lambda d: name in d.find_element('id', 'attach-list').text)
        run(d, 'data = open(%r, "rb").read()\n'
            'open("copy.bin", "wb").write(data[::-1])\n'
            'print(len(data))' % name, ret='copy.bin missing.txt')
        assert text(d, 'stdout') == '768\n', (text(d, 'error'),
                                              text(d, 'stderr'))
        links = d.find_elements('css selector', '#outfiles a[download]')
        assert len(links) == 1 and links[0].get_attribute('download') == \
            'copy.bin'
        # Download it as a user would: click the link, read the file.
        d.execute_cdp_cmd('Browser.setDownloadBehavior',
                          {'behavior': 'allow', 'downloadPath': dl})
        links[0].click()
        path = os.path.join(dl, 'copy.bin')
        wait(d, lambda d: os.path.exists(path) and not
             os.path.exists(path + '.crdownload'))
        with open(path, 'rb') as f:
            assert f.read() == data[::-1]
        assert 'File not found' in text(d, 'outfiles')
    finally:
        os.unlink(f.name)
        shutil.rmtree(dl, ignore_errors=True)
        # Remove the attachment for the tests that follow.
        for b in d.find_elements('css selector', '#attach-list button'):
            b.click()


def _session_ids(d):
    urls = d.execute_script('return performance.getEntriesByType("resource")'
                            '.map((e) => e.name)')
    ids = []
    for u in urls:
        parts = u.split('/sessions/', 1)
        if len(parts) == 2 and parts[1].endswith('/execute'):
            sid = parts[1][:-len('/execute')]
            if sid not in ids:
                ids.append(sid)
    return ids


def test_notebook_mode(s):
    import json
    d = driver(s)
    console_errors(d)
    sw = d.find_element('id', 'mode-switch')
    assert sw.is_displayed()			# the server describes /sessions
    d.find_element('id', 'session-mode').click()
    try:
        run(d, 'x = 6 * 7\nprint("set")')
        assert text(d, 'stdout') == 'set\n', (text(d, 'error'),
                                              text(d, 'stderr'))
        assert text(d, 'value') is None		# a statement has no value
        run(d, 'x')				# state carried to the next cell
        assert text(d, 'value') == '42', (text(d, 'value'), text(d, 'error'))
        # display() of a PIL image (matplotlib is not on the public
        # import list) shows inline.
        run(d, 'from PIL import Image\n'
            'display(Image.new("RGB", (48, 24), (20, 120, 200)))')
        assert text(d, 'display-h') == 'Figures', (text(d, 'error'),
                                                   text(d, 'stderr'))
        img = wait(d, lambda d: d.find_element('css selector', '#display img'))
        wait(d, lambda d: d.execute_script(
            'return arguments[0].complete && arguments[0].naturalWidth', img))
        assert img.get_attribute('src').startswith('blob:')
        assert d.execute_script('return [arguments[0].naturalWidth, '
                                'arguments[0].naturalHeight]', img) == [48, 24]
        run(d, 'def f():\n    return 1 / 0\nf()')
        assert 'ZeroDivisionError' in text(d, 'stderr'), text(d, 'stderr')
        assert '<cell-' in text(d, 'stderr')	# the cell, not a server path
        cells = d.find_elements('css selector', '#cells li')
        assert len(cells) == 4, [c.text for c in cells]
        assert 'Out[2]: 42' in cells[1].text, cells[1].text
        ids = _session_ids(d)
        assert len(ids) == 1, ids
        st, _, body = s.request('GET', '/sessions/' + ids[0])
        assert st == 200 and json.loads(body)['executions'] == 4, body
        # "New session" releases the old one on the server.
        d.find_element('id', 'restart').click()
        wait(d, lambda d: s.request('GET', '/sessions/' + ids[0])[0] == 404)
        assert d.find_elements('css selector', '#cells li') == []
        run(d, 'x')
        assert 'NameError' in text(d, 'stderr'), text(d, 'stderr')
        ids = _session_ids(d)
        assert len(ids) == 2, ids
        # A session that ends on the server: the page says so and the next
        # run starts another.
        s.request('DELETE', '/sessions/' + ids[1])
        run(d, 'print(1)')
        assert 'has ended' in d.find_element('id', 'session-state').text
        run(d, 'print(2)')
        assert text(d, 'stdout') == '2\n'
        ids = _session_ids(d)
        assert len(ids) == 3, ids
    finally:
        # Unticking the mode releases the session (and plain runs follow).
        if d.find_element('id', 'session-mode').is_selected():
            d.find_element('id', 'session-mode').click()
    wait(d, lambda d: s.request('GET', '/sessions/' + ids[-1])[0] == 404)
    run(d, 'print("plain")')
    assert text(d, 'stdout') == 'plain\n'
    assert text(d, 'value') is None
    assert console_errors(d) == []


def test_phone_width_and_screenshots(s):
    d = driver(s)
    run(d, 'from PIL import Image, ImageDraw\n'
        'img = Image.new("RGB", (240, 120), "white")\n'
        'd = ImageDraw.Draw(img)\n'
        'for i in range(0, 240, 12):\n'
        '    d.line([(i, 0), (240 - i, 120)], fill=(30, 90 + i // 3, 200), width=2)\n'
        'img.save("plot.png")\nprint("saved plot.png")',
        ret='plot.png')
    os.makedirs(SHOTS, exist_ok=True)
    assert not d.find_element('id', 'cancel').is_displayed()
    d.set_window_size(1280, 1000)
    d.execute_script('window.scrollTo(0, 0); document.activeElement.blur()')
    d.save_screenshot(os.path.join(SHOTS, 'playground-desktop.png'))
    d.set_window_size(390, 844)
    try:
        d.execute_script('window.scrollTo(0, 0)')
        wait(d, lambda d: d.execute_script('return window.innerWidth') <= 400)
        width = d.execute_script('return [document.documentElement.scrollWidth,'
                                 ' window.innerWidth]')
        assert width[0] <= width[1], width
        run_btn = d.find_element('id', 'run')
        assert run_btn.size['height'] >= 40	# a finger-sized target
        d.save_screenshot(os.path.join(SHOTS, 'playground-phone.png'))
    finally:
        d.set_window_size(1280, 900)
