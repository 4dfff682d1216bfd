"""matplotlib (issue 17 item 1): pyplot preloaded with its font list in
the zygote, so a run never rebuilds it; plt.show() in a one-shot run saves
the figures so that return_files can bring them back."""
from helpers import ok, unb64

CONFIG = {'time_limit_seconds': 60}

PNG = b'\x89PNG\r\n\x1a\n'


def test_line_plot_to_png(s):
    code = '''
import os
import matplotlib.pyplot as plt
plt.plot([1, 2, 3], [3, 1, 2])
plt.title("a title (text needs the fonts)")
plt.savefig("plot.png")
d = "/tmp/.matplotlib"
built = [f for f in (os.listdir(d) if os.path.isdir(d) else [])
         if f.startswith("fontlist") and os.access(os.path.join(d, f), os.W_OK)]
print("built in the run:", built)
'''
    d = ok(s.execute({'code': code, 'api_key': s.admin_key,
                      'return_files': ['plot.png']}))
    assert d['success'], d
    assert unb64(d['output_files']['plot.png']['content_base64']).startswith(PNG)
    # The run did not build matplotlib's font list (that took ~0.8 s): in
    # zygote mode it is in the zygote's memory, in exec mode a read-only
    # file the worker built once.
    assert d['stdout'] == 'built in the run: []\n', d['stdout']
    assert 'Matplotlib is building the font cache' not in d['stderr'], d['stderr']


def test_show_saves_figures(s):
    code = '''
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
plt.show()
plt.figure()
plt.bar([1, 2], [3, 4])
plt.figure()
plt.scatter([1], [2])
plt.show()
print(plt.get_fignums())
'''
    d = ok(s.execute({'code': code, 'api_key': s.admin_key,
                      'return_files': ['figure_*.png']}))
    assert d['stdout'] == '[]\n', d
    files = d['output_files']
    assert sorted(files) == ['figure_1.png', 'figure_2.png', 'figure_3.png'], files
    for f in files.values():
        assert unb64(f['content_base64']).startswith(PNG)
    assert 'non-GUI backend' not in d['stderr'], d['stderr']


def test_fonts_work_after_fork(s):
    # Text drawn in the run opens its font files itself (the zygote's
    # cached fonts were closed before the fork).
    code = '''
import matplotlib.pyplot as plt
fig = plt.figure()
fig.text(0.5, 0.5, "hello", fontsize=20)
fig.savefig("t.png")
print("ok")
'''
    d = ok(s.execute({'code': code, 'api_key': s.admin_key,
                      'return_files': ['t.png']}))
    assert d['stdout'] == 'ok\n' and d['stderr'] == '', d
