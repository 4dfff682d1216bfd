"""browser.py: headless Chromium driven by Selenium, for the playground
tests (Debian's chromium, chromium-driver and python3-selenium).

The machine has no network: every background service of Chromium that
would look a name up is off, or start-up hangs on DNS. The stack's
certificate is self-signed, so the browser accepts it (acceptInsecureCerts);
nothing else is relaxed. One browser per test module, reused, quit at exit.
"""
import atexit
import os
import shutil
import tempfile

CHROMIUM = '/usr/bin/chromium'
DRIVER = '/usr/bin/chromedriver'

_drivers = []


def available():
    return os.path.exists(CHROMIUM) and os.path.exists(DRIVER)


def new_driver(width=1280, height=900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix='pyexec-chromium-')
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu',
              '--disable-quic', '--no-first-run',
              '--disable-background-networking',
              '--disable-component-update', '--disable-sync',
              '--disable-default-apps', '--disable-extensions',
              '--disable-dev-shm-usage', '--no-default-browser-check',
              '--user-data-dir=' + profile,
              '--window-size=%d,%d' % (width, height)):
        opts.add_argument(a)
    opts.set_capability('acceptInsecureCerts', True)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    d.set_page_load_timeout(120)
    d.set_script_timeout(120)
    d._pyexec_profile = profile
    _drivers.append(d)
    return d


def quit_all():
    while _drivers:
        d = _drivers.pop()
        try:
            d.quit()
        finally:
            shutil.rmtree(d._pyexec_profile, ignore_errors=True)


atexit.register(quit_all)
