"""The seed 002 README's examples, as a user would send them."""
from helpers import b64, unb64, ok, png_rgb


def test_basic_sum(s):
    d = ok(s.execute({'code': 'print(f"The sum is {10 + 25}")'}))
    assert d['stdout'] == 'The sum is 35\n'
    assert d['success'] is True and d['exit_code'] == 0
    assert d['stderr'] == ''
    assert d['termination'] == 'exited'


def test_stdin(s):
    d = ok(s.execute({'code': 'import sys\nname = sys.stdin.read().strip()\n'
                              'print(f"Hello, {name}!")',
                      'stdin_data': 'Alice'}))
    assert d['stdout'] == 'Hello, Alice!\n'


def test_stdin_input_builtin(s):
    d = ok(s.execute({'code': 'a = input(); b = input(); print(int(a) + int(b))',
                      'stdin_data': '2\n40\n'}))
    assert d['stdout'] == '42\n'


def test_attachment(s):
    st, doc, _ = s.execute({
        'code': 'with open("input.txt", "r") as f:\n  print(f.read().upper())',
        'attachments': [{'filename': 'input.txt',
                         'content_base_64': b64('This is some sample data.\n')}]})
    d = ok((st, doc, None))
    assert d['stdout'] == 'THIS IS SOME SAMPLE DATA.\n\n'
    rc = doc['request_context']
    assert rc['attachment_count'] == 1
    assert rc['processed_attachments'] == [{'filename': 'input.txt', 'size_bytes': 26}]


def test_return_file(s):
    d = ok(s.execute({
        'code': 'with open("result.txt", "w") as f:\n  f.write("Process completed successfully.")',
        'return_files': ['result.txt']}))
    f = d['output_files']['result.txt']
    assert unb64(f['content_base64']) == b'Process completed successfully.'
    assert f['size_bytes'] == 31


def test_admin_key_allows_os(s):
    d = ok(s.execute({'code': 'import os\nprint(f"Running with {os.cpu_count()} CPU cores available.")',
                      'api_key': s.admin_key}))
    assert d['stdout'].startswith('Running with ')


def test_pillow_grayscale(s):
    code = '''
from PIL import Image
try:
    with Image.open('input_photo.jpg') as img:
        grayscale_img = img.convert('L')
        grayscale_img.save('output_grayscale.png')
        print("Image successfully converted to grayscale.")
except Exception as e:
    print(f"An unexpected error occurred: {e}")
'''
    d = ok(s.execute({'code': code,
                      'attachments': [{'filename': 'input_photo.jpg',
                                       'content_base_64': b64(png_rgb(16, 8))}],
                      'return_files': ['output_grayscale.png']}))
    assert d['stdout'] == 'Image successfully converted to grayscale.\n', d
    png = unb64(d['output_files']['output_grayscale.png']['content_base64'])
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    # IHDR: width 16, height 8, bit depth 8, colour type 0 (grayscale)
    assert png[16:26] == b'\x00\x00\x00\x10\x00\x00\x00\x08\x08\x00', png[16:26]


def test_numpy_public(s):
    d = ok(s.execute({'code': 'import numpy as np\nprint(int(np.arange(10).sum()))'}))
    assert d['stdout'] == '45\n'


def test_reportlab_pdf(s):
    code = ('from reportlab.pdfgen import canvas\n'
            'c = canvas.Canvas("out.pdf")\nc.drawString(100, 750, "hi")\nc.save()\n')
    d = ok(s.execute({'code': code, 'return_files': ['out.pdf']}))
    assert unb64(d['output_files']['out.pdf']['content_base64'])[:5] == b'%PDF-'


def test_matplotlib_admin(s):
    code = ('import matplotlib\nmatplotlib.use("Agg")\nimport matplotlib.pyplot as plt\n'
            'plt.plot([1, 2, 3])\nplt.savefig("p.png")\nprint("ok")\n')
    d = ok(s.execute({'code': code, 'return_files': ['p.png'],
                      'api_key': s.admin_key}, timeout=60))
    assert d['stdout'] == 'ok\n', d
    assert unb64(d['output_files']['p.png']['content_base64'])[:4] == b'\x89PNG'
