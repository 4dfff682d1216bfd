/*
 * pyexec playground: runs the editor's code through POST /execute and shows
 * the answer. No framework, no build step, nothing from other origins (the
 * page's Content-Security-Policy allows only this origin). Output from the
 * server is untrusted: it is only ever put in the page as text
 * (textContent) or as a blob: image of a sniffed raster type.
 *
 * What the API offers is read from /openapi.json at start: session mode
 * (a notebook of cells against one session) appears only when the server
 * describes /sessions. In it, the first Run makes a session (with the
 * attachments), each Run is a cell on it, and unticking the mode, "New
 * session" or leaving the page releases it. The session id is kept in
 * this page's memory only: it is the session's capability.
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const el = {
    code: $('code'), stdin: $('stdin'), files: $('files'), drop: $('drop'),
    attachList: $('attach-list'), ret: $('return-files'), key: $('api-key'),
    remember: $('remember-key'), run: $('run'), cancel: $('cancel'),
    busy: $('busy'), error: $('error'), summary: $('summary'),
    exit: $('exit'), term: $('termination'), duration: $('duration'),
    cpu: $('cpu'), rss: $('rss'), stdout: $('stdout'), stderr: $('stderr'),
    stdoutH: $('stdout-h'), stderrH: $('stderr-h'), outfiles: $('outfiles'),
    outfilesH: $('outfiles-h'), meta: $('meta'), placeholder: $('placeholder'),
    example: $('example'), modeSwitch: $('mode-switch'),
    sessionMode: $('session-mode'), sessionState: $('session-state'),
    restart: $('restart'), cells: $('cells'), value: $('value'),
    valueH: $('value-h'), display: $('display'), displayH: $('display-h')
  };
  const KEY_STORE = 'pyexec.apiKey';
  const CODE_STORE = 'pyexec.code';
  const MAX_WAIT_MS = 360 * 1000;   /* above the largest server time limit */
  const INDENT = '    ';

  const features = { sessions: false };
  let attachments = [];             /* {name, size, b64} */
  let blobUrls = [];
  let inflight = null;              /* AbortController */
  let retryTimer = null;
  let session = null;               /* {id, n}: the notebook's session */

  const EXAMPLES = {
    hello: { code: 'name = "world"\nfor i in range(3):\n    print(f"Hello, {name}! ({i})")\n' },
    stdin: {
      code: 'import sys\n\nfor line in sys.stdin:\n    print(line.strip().upper())\n',
      stdin: 'first line\nsecond line\n'
    },
    files: {
      code: 'with open("data.txt") as f:\n    words = f.read().split()\n\nwith open("count.txt", "w") as f:\n    f.write(f"{len(words)} words\\n")\nprint("wrote count.txt")\n',
      ret: 'count.txt',
      attach: [{ name: 'data.txt', text: 'the quick brown fox jumps over the lazy dog\n' }]
    },
    image: {
      code: 'from PIL import Image, ImageDraw\n\nimg = Image.new("RGB", (240, 120), "white")\nd = ImageDraw.Draw(img)\nfor i in range(0, 240, 12):\n    d.line([(i, 0), (240 - i, 120)], fill=(30, 90 + i // 3, 200), width=2)\nimg.save("plot.png")\nprint("saved plot.png")\n',
      ret: 'plot.png'
    },
    error: { code: 'def divide(a, b):\n    return a / b\n\nprint(divide(1, 0))\n' }
  };

  /* -- storage: the key stays in this browser, and only if asked -------- */
  function loadState() {
    try {
      const k = localStorage.getItem(KEY_STORE);
      if (k) { el.key.value = k; el.remember.checked = true; }
      const c = localStorage.getItem(CODE_STORE);
      if (c) el.code.value = c;
    } catch (e) { /* storage disabled: nothing to restore */ }
  }
  function saveKey() {
    try {
      if (el.remember.checked && el.key.value) localStorage.setItem(KEY_STORE, el.key.value);
      else localStorage.removeItem(KEY_STORE);
    } catch (e) { /* ignore */ }
  }
  function saveCode() {
    try { localStorage.setItem(CODE_STORE, el.code.value); } catch (e) { /* ignore */ }
  }

  /* -- the editor: Tab, Shift+Tab, Ctrl/Cmd+Enter ----------------------- */
  let escaped = false;
  function replaceRange(ta, start, end, text) {
    ta.focus();
    ta.setSelectionRange(start, end);
    /* execCommand keeps the browser's undo history; setRangeText does not */
    if (!document.execCommand || !document.execCommand('insertText', false, text))
      ta.setRangeText(text, start, end, 'end');
  }
  function indent(ta, out) {
    const v = ta.value, s = ta.selectionStart, e = ta.selectionEnd;
    const lineStart = v.lastIndexOf('\n', s - 1) + 1;
    if (!out && s === e) { replaceRange(ta, s, e, INDENT); return; }
    let blockEnd = e;
    if (e > s && v[e - 1] === '\n') blockEnd = e - 1;
    const block = v.slice(lineStart, blockEnd);
    const lines = block.split('\n');
    let firstDelta = 0, total = 0;
    const changed = lines.map((ln, i) => {
      if (!out) { total += INDENT.length; if (i === 0) firstDelta = INDENT.length; return INDENT + ln; }
      const m = /^( {1,4}|\t)/.exec(ln);
      const cut = m ? m[0].length : 0;
      total -= cut; if (i === 0) firstDelta = -cut;
      return ln.slice(cut);
    }).join('\n');
    if (changed === block) return;
    replaceRange(ta, lineStart, blockEnd, changed);
    const ns = Math.max(lineStart, s + firstDelta);
    ta.setSelectionRange(s === e ? ns : ns, s === e ? ns : e + total);
  }
  el.code.addEventListener('keydown', (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === 'Enter') {
      ev.preventDefault(); run(); return;
    }
    if (ev.key === 'Escape') { escaped = true; return; }
    if (ev.key === 'Tab' && !escaped && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
      ev.preventDefault();
      indent(el.code, ev.shiftKey);
      return;
    }
    if (ev.key !== 'Shift') escaped = false;
  });
  el.code.addEventListener('input', saveCode);
  for (const ta of [el.stdin, el.ret, el.key]) {
    ta.addEventListener('keydown', (ev) => {
      if ((ev.ctrlKey || ev.metaKey) && ev.key === 'Enter') { ev.preventDefault(); run(); }
    });
  }
  el.key.addEventListener('input', saveKey);
  el.remember.addEventListener('change', saveKey);

  /* -- attachments: picker and drag-and-drop ---------------------------- */
  function toBase64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000)
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }
  function fromBase64(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  async function addFiles(list) {
    for (const f of list) {
      const bytes = new Uint8Array(await f.arrayBuffer());
      attachments = attachments.filter((a) => a.name !== f.name);
      attachments.push({ name: f.name, size: bytes.length, b64: toBase64(bytes) });
    }
    renderAttachments();
  }
  function renderAttachments() {
    el.attachList.textContent = '';
    attachments.forEach((a, i) => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = a.name + ' (' + fmtBytes(a.size) + ')';
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.textContent = '×';
      rm.setAttribute('aria-label', 'Remove ' + a.name);
      rm.addEventListener('click', () => { attachments.splice(i, 1); renderAttachments(); el.files.focus(); });
      li.append(name, rm);
      el.attachList.append(li);
    });
  }
  el.files.addEventListener('change', () => { addFiles(el.files.files); el.files.value = ''; });
  el.drop.addEventListener('dragover', (ev) => { ev.preventDefault(); el.drop.classList.add('over'); });
  el.drop.addEventListener('dragleave', () => el.drop.classList.remove('over'));
  el.drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    el.drop.classList.remove('over');
    if (ev.dataTransfer && ev.dataTransfer.files.length) addFiles(ev.dataTransfer.files);
  });

  /* -- examples ---------------------------------------------------------- */
  el.example.addEventListener('change', () => {
    const ex = EXAMPLES[el.example.value];
    if (!ex) return;
    el.code.value = ex.code;
    el.stdin.value = ex.stdin || '';
    el.ret.value = ex.ret || '';
    attachments = (ex.attach || []).map((a) => {
      const bytes = new TextEncoder().encode(a.text);
      return { name: a.name, size: bytes.length, b64: toBase64(bytes) };
    });
    renderAttachments();
    saveCode();
    el.code.focus();
  });

  /* -- formatting -------------------------------------------------------- */
  function fmtBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }
  function fmtSec(s) {
    return typeof s === 'number' ? (s < 1 ? (s * 1000).toFixed(0) + ' ms' : s.toFixed(2) + ' s') : '–';
  }
  const TERM_TEXT = {
    exited: 'exited', signaled: 'killed by a signal', timeout: 'time limit',
    cpu_limit: 'CPU limit', memory_limit: 'memory limit', output_limit: 'output limit'
  };
  function sniffImage(b) {
    if (b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
    if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
    if (b.length > 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'image/gif';
    return null;
  }

  /* -- rendering one answer ---------------------------------------------- */
  function clearResult() {
    blobUrls.forEach((u) => URL.revokeObjectURL(u));
    blobUrls = [];
    el.error.hidden = true; el.error.textContent = '';
    el.summary.hidden = true;
    for (const [h, p] of [[el.stdoutH, el.stdout], [el.stderrH, el.stderr], [el.outfilesH, el.outfiles],
                          [el.valueH, el.value], [el.displayH, el.display]]) {
      h.hidden = true; p.hidden = true; p.textContent = '';
    }
    el.meta.textContent = '';
    el.placeholder.hidden = true;
  }
  function showError(title, detail) {
    el.error.textContent = '';
    const t = document.createElement('strong');
    t.textContent = title;
    el.error.append(t);
    if (detail) el.error.append(document.createTextNode(detail));
    el.error.hidden = false;
  }
  function showStream(h, pre, text) {
    if (!text) return;
    pre.textContent = text;
    h.hidden = false; pre.hidden = false;
  }
  function showFiles(files) {
    const names = Object.keys(files || {});
    if (!names.length) return;
    for (const name of names) {
      const f = files[name];
      const li = document.createElement('li');
      const n = document.createElement('span');
      n.className = 'name';
      n.textContent = name;
      li.append(n);
      if (f.error) {
        const why = document.createElement('span');
        why.className = 'why';
        why.textContent = ' — ' + f.error;
        li.append(why);
      } else {
        const bytes = fromBase64(f.content_base64);
        const type = sniffImage(bytes);
        const url = URL.createObjectURL(new Blob([bytes], { type: type || 'application/octet-stream' }));
        blobUrls.push(url);
        const size = document.createElement('span');
        size.className = 'size';
        size.textContent = ' (' + fmtBytes(f.size_bytes) + ') ';
        const a = document.createElement('a');
        a.href = url;
        a.download = name.split('/').pop();
        a.textContent = 'Download';
        a.setAttribute('aria-label', 'Download ' + name);
        li.append(size, a);
        if (type) {
          const img = document.createElement('img');
          img.src = url;
          img.alt = 'Image ' + name + ' returned by the run';
          li.append(img);
        }
      }
      el.outfiles.append(li);
    }
    el.outfilesH.hidden = false; el.outfiles.hidden = false;
  }
  function showDetails(d) {
    el.exit.textContent = d.exit_code === null ? '–' : String(d.exit_code);
    el.exit.className = d.success ? 'ok' : 'bad';
    let t = TERM_TEXT[d.termination] || d.termination;
    if (d.termination === 'signaled' && d.signal) t += ' (' + d.signal + ')';
    if (d.oom_killed && d.termination !== 'memory_limit') t += ', OOM kill';
    el.term.textContent = t;
    el.term.className = d.termination === 'exited' ? '' : 'bad';
    el.duration.textContent = fmtSec(d.execution_duration_sec);
    el.cpu.textContent = fmtSec(d.cpu_time_sec);
    el.rss.textContent = d.max_rss_kb ? fmtBytes(d.max_rss_kb * 1024) : '–';
    el.summary.hidden = false;
    showStream(el.stdoutH, el.stdout, d.stdout + (d.stdout_truncated ? '\n[output truncated]' : ''));
    showStream(el.stderrH, el.stderr, d.stderr + (d.stderr_truncated ? '\n[output truncated]' : ''));
    showFiles(d.output_files);
  }
  function showMeta(doc, rid) {
    const parts = [];
    const u = doc && doc.user_info;
    if (u && u.role === 'admin') parts.push('admin key: no rate limits');
    else if (u && typeof u.requests_remaining_today === 'number')
      parts.push(u.requests_remaining_today + ' of ' + u.daily_quota_limit + ' runs left today');
    if (rid) parts.push('request id ' + rid);
    el.meta.textContent = parts.join(' · ');
  }

  /* A session cell's own fields: its value, exception and figures. Only
   * raster images sniffed from their bytes are shown (never SVG markup). */
  function showCell(d) {
    if (typeof d.result === 'string') showStream(el.valueH, el.value, d.result);
    if (d.error && d.error.traceback)
      showStream(el.stderrH, el.stderr, (el.stderr.textContent || '') + d.error.traceback);
    let n = 0;
    for (const x of d.display || []) {
      n++;
      const li = document.createElement('li');
      const bytes = fromBase64(x.data_base64 || '');
      const type = sniffImage(bytes);
      if (type) {
        const url = URL.createObjectURL(new Blob([bytes], { type }));
        blobUrls.push(url);
        const img = document.createElement('img');
        img.src = url;
        img.alt = 'Figure ' + n + ' of the cell';
        li.append(img);
      } else {
        li.textContent = 'Output ' + n + ': ' + (x.mime_type || 'unknown type') + ', not shown';
      }
      el.display.append(li);
    }
    if (n) { el.displayH.hidden = false; el.display.hidden = false; }
  }
  function addHistory(code, d) {
    const li = document.createElement('li');
    li.className = 'cell';
    const i = document.createElement('pre');
    i.className = 'in';
    i.textContent = 'In [' + session.n + ']: ' + code;
    li.append(i);
    const out = d.error ? d.error.type + ': ' + d.error.message : d.result;
    if (typeof out === 'string') {
      const o = document.createElement('pre');
      o.className = d.error ? 'out bad' : 'out';
      o.textContent = 'Out[' + session.n + ']: ' + out;
      li.append(o);
    }
    el.cells.append(li);
  }
  function setSessionState(text) {
    el.sessionState.textContent = text;
    el.restart.hidden = !session;
  }
  function authHeaders() {
    const h = { 'Content-Type': 'application/json' };
    if (el.key.value) h.Authorization = 'Bearer ' + el.key.value;
    return h;
  }
  /* Releases the notebook's session; keepalive lets it outlive the page. */
  function releaseSession(why) {
    if (session) {
      fetch('/sessions/' + encodeURIComponent(session.id), {
        method: 'DELETE', headers: authHeaders(), keepalive: true,
        cache: 'no-store', credentials: 'omit'
      }).catch(() => {});
    }
    session = null;
    el.cells.textContent = '';
    setSessionState(why || '');
  }

  function startRetryCountdown(seconds) {
    clearInterval(retryTimer);
    let left = seconds;
    el.run.disabled = true;
    const tick = () => {
      if (left <= 0) {
        clearInterval(retryTimer); el.run.disabled = false; el.busy.textContent = ''; return;
      }
      el.busy.textContent = 'You can run again in ' + left + ' s';
      left--;
    };
    tick();
    retryTimer = setInterval(tick, 1000);
  }

  function explain(status, doc, headers) {
    const ed = (doc && doc.error_details) || {};
    const type = ed.type || ('HTTP ' + status);
    const msg = ed.message || '';
    const retry = parseInt(headers.get('Retry-After') || '', 10);
    switch (type) {
      case 'SyntaxError':
        return ['Syntax error', msg];
      case 'ForbiddenImportError':
        return ['Import not allowed', msg + (ed.disallowed ? '\nNot allowed: ' + ed.disallowed.join(', ') : '')];
      case 'TimeoutError':
        return ['Time limit reached', msg + ' The output so far is below.'];
      case 'RateLimitExceeded':
        return ['Too many runs', msg + (retry > 0 ? '\nRetry in ' + retry + ' s.' : ''), retry];
      case 'ServerBusy':
        return ['The server is busy', msg + (retry > 0 ? '\nRetry in ' + retry + ' s.' : ''), retry];
      case 'ServiceUnavailable':
        return ['Service unavailable', msg, retry];
      case 'InvalidApiKey':
        return ['Wrong API key', msg + '\nCorrect it, or empty the API key field to run as a public user.'];
      case 'SessionBusy':
        return ['The session is busy', msg + '\nIts previous cell is still running; run again when it ends.'];
      case 'ValidationError': case 'InvalidRequest':
        return ['The request was refused', msg];
      case 'PayloadTooLarge':
        return ['Too large', msg + '\nAttachments or input are too big.'];
      default:
        return [type, msg];
    }
  }

  /* -- running ------------------------------------------------------------ */
  function buildRequest() {
    const body = { code: el.code.value };
    if (el.stdin.value) body.stdin_data = el.stdin.value;
    if (attachments.length)
      body.attachments = attachments.map((a) => ({ filename: a.name, content_base_64: a.b64 }));
    const ret = el.ret.value.split(/[\s,]+/).filter(Boolean);
    if (ret.length) body.return_files = ret;
    if (el.key.value) body.api_key = el.key.value;
    return body;
  }

  async function run() {
    if (inflight || el.run.disabled) return;
    clearResult();
    const ctl = new AbortController();
    inflight = ctl;
    const t0 = performance.now();
    el.run.disabled = true;
    el.cancel.hidden = false;
    el.busy.textContent = 'Running…';
    const ticker = setInterval(() => {
      el.busy.textContent = 'Running… ' + ((performance.now() - t0) / 1000).toFixed(1) + ' s';
    }, 200);
    const giveUp = setTimeout(() => ctl.abort(), MAX_WAIT_MS);
    let retry = 0;
    const notebook = features.sessions && el.sessionMode.checked;
    try {
      const body = buildRequest();
      let url = '/execute';
      if (notebook) {
        if (!session) {
          el.busy.textContent = 'Starting a session…';
          const made = await fetch('/sessions', {
            method: 'POST', headers: authHeaders(), signal: ctl.signal,
            cache: 'no-store', credentials: 'omit',
            body: JSON.stringify(body.attachments ? { attachments: body.attachments } : {})
          });
          let mdoc = null;
          try { mdoc = await made.json(); } catch (e) { mdoc = null; }
          if (made.status !== 201 || !mdoc || typeof mdoc.session_id !== 'string') {
            const [title, detail, r] = explain(made.status, mdoc, made.headers);
            showError(title, detail ? '\n' + detail : '');
            showMeta(mdoc, made.headers.get('X-Request-Id'));
            retry = r || 0;
            return;
          }
          session = { id: mdoc.session_id, n: 0 };
          setSessionState('session started; variables and files last until it ends');
        }
        delete body.attachments;		/* they went in with the session */
        delete body.api_key;
        url = '/sessions/' + encodeURIComponent(session.id) + '/execute';
      }
      const resp = await fetch(url, {
        method: 'POST',
        headers: notebook ? authHeaders() : { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: ctl.signal,
        cache: 'no-store',
        credentials: 'omit'
      });
      const rid = resp.headers.get('X-Request-Id');
      let doc = null;
      try { doc = await resp.json(); } catch (e) { doc = null; }
      if (resp.ok && doc && doc.status === 'success') {
        showDetails(doc.execution_details);
        if (notebook) {
          const d = doc.execution_details;
          session.n++;
          showCell(d);
          addHistory(body.code, d);
          if (d.session_alive === false)
            releaseSession('the session ended: ' + (d.session_message || 'it was stopped') +
                           '; the next run starts a new one');
        }
      } else {
        if (notebook && doc && doc.error_details && doc.error_details.type === 'SessionNotFound')
          releaseSession('the session has ended (idle or too old); the next run starts a new one');
        const [title, detail, r] = explain(resp.status, doc, resp.headers);
        showError(title, detail ? '\n' + detail : '');
        if (doc && doc.execution_details) showDetails(doc.execution_details);
        retry = r || 0;
      }
      showMeta(doc, rid);
    } catch (e) {
      if (e.name === 'AbortError')
        showError('Stopped', '\nNo answer was awaited any longer; the run may still finish on the server.');
      else
        showError('Could not reach the server', '\n' + e.message);
    } finally {
      clearInterval(ticker);
      clearTimeout(giveUp);
      inflight = null;
      el.cancel.hidden = true;
      el.busy.textContent = '';
      el.run.disabled = false;
      if (retry > 0) startRetryCountdown(retry);
      document.body.dataset.runs = String((parseInt(document.body.dataset.runs || '0', 10)) + 1);
    }
  }
  el.run.addEventListener('click', run);
  el.sessionMode.addEventListener('change', () => {
    if (!el.sessionMode.checked) releaseSession('');
    else setSessionState('the next run starts a session');
  });
  el.restart.addEventListener('click', () => {
    releaseSession('the next run starts a new session');
    clearResult();
    el.placeholder.hidden = false;
  });
  window.addEventListener('pagehide', () => releaseSession(''));
  el.cancel.addEventListener('click', () => { if (inflight) inflight.abort(); });

  /* -- what this server offers -------------------------------------------- */
  async function discover() {
    try {
      const r = await fetch('/openapi.json', { cache: 'no-store' });
      const spec = await r.json();
      features.sessions = !!(spec.paths && spec.paths['/sessions']);
    } catch (e) { features.sessions = false; }
    /* Session (notebook) mode is offered only where the API has sessions. */
    el.modeSwitch.hidden = !features.sessions;
    document.body.dataset.ready = '1';
  }

  loadState();
  discover();
})();
