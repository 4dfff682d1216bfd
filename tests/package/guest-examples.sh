#!/bin/bash
# Runs inside the package-test guest (test-package.sh pushes it there):
# the README's curl examples, and a few more that exercise the libraries
# the package depends on, against the installed service through nginx
# over HTTPS, checking each JSON answer.  Prints one line per example and
# exits non-zero at the first failure.
#
#   guest-examples.sh NAME    NAME: the name in the site's certificate
#                             (Debian's snakeoil certificate), resolved
#                             to 127.0.0.1; the certificate is verified.
set -euo pipefail

name=${1:?usage: guest-examples.sh CERTIFICATE_NAME}
url=https://$name
ca=/etc/ssl/certs/ssl-cert-snakeoil.pem
admin_key=$(cat /etc/pyexec/admin.key)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# POST /execute with body $1; leaves the status in $work/status and the
# body in $work/body.
execute() {
    curl -sS --max-time 60 --cacert "$ca" --resolve "$name:443:127.0.0.1" \
        -o "$work/body" -w '%{http_code}' "$url/execute" \
        -H 'Content-Type: application/json' -d "$1" >"$work/status"
}

# expect NAME STATUS PYTHON_CONDITION: checks the last answer; the
# condition sees the parsed body as `d` and `e` (its execution_details).
expect() {
    local what=$1 status=$2 cond=$3 got
    got=$(cat "$work/status")
    if [ "$got" != "$status" ]; then
        echo "FAIL $what: HTTP $got, expected $status"
        head -c 2000 "$work/body"; echo
        exit 1
    fi
    if ! python3 - "$work/body" "$cond" <<'PY'
import base64, io, json, sys
d = json.load(open(sys.argv[1]))
e = d.get('execution_details') or {}
def out(name):
    return base64.b64decode(e['output_files'][name]['content_base64'])
if not eval(sys.argv[2]):
    sys.exit(1)
PY
    then
        echo "FAIL $what: $cond does not hold for:"
        head -c 2000 "$work/body"; echo
        exit 1
    fi
    echo "ok   $what"
}

health=$(curl -sS --max-time 30 --cacert "$ca" --resolve "$name:443:127.0.0.1" "$url/healthz")
[ "$health" = '{"status":"ok"}' ] || { echo "FAIL healthz: $health"; exit 1; }
echo "ok   GET /healthz"

execute '{"code": "print(f\"The sum is {10 + 25}\")"}'
expect "run code (the sum)" 200 \
    "d['status'] == 'success' and e['stdout'] == 'The sum is 35\n' and e['exit_code'] == 0"

execute '{"code": "import sys\nname = sys.stdin.read().strip()\nprint(f\"Hello, {name}!\")",
          "stdin_data": "Alice"}'
expect "standard input" 200 "e['stdout'] == 'Hello, Alice!\n' and d['request_context']['stdin_provided']"

echo "This is some sample data." >"$work/data.txt"
execute '{"code": "with open(\"input.txt\") as f:\n  print(f.read().upper())",
          "attachments": [{"filename": "input.txt",
                           "content_base_64": "'"$(base64 -w0 "$work/data.txt")"'"}]}'
expect "files in (attachment)" 200 \
    "e['stdout'] == 'THIS IS SOME SAMPLE DATA.\n\n' and d['request_context']['attachment_count'] == 1"

execute '{"code": "with open(\"result.txt\", \"w\") as f:\n  f.write(\"done\")",
          "return_files": ["result.txt"]}'
expect "files out (return_files)" 200 "out('result.txt') == b'done'"

execute '{"code": "import os\nprint(os.cpu_count())", "api_key": "'"$admin_key"'"}'
expect "admin key lifts the import policy" 200 "e['exit_code'] == 0 and int(e['stdout']) >= 1"
execute '{"code": "import os\nprint(os.cpu_count())"}'
expect "without the key the import is refused" 400 \
    "d['error_details']['type'] == 'ForbiddenImportError'"

# The seed's Pillow example: a small colour PNG in, its grayscale out.
python3 -c '
from PIL import Image
im = Image.new("RGB", (32, 16))
for x in range(32):
    for y in range(16):
        im.putpixel((x, y), (8 * x, 16 * y, 128))
im.save("'"$work"'/in.png")'
execute '{"code": "from PIL import Image\nim = Image.open(\"in.png\").convert(\"L\")\nim.save(\"gray.png\")\nprint(im.mode, im.size)",
          "attachments": [{"filename": "in.png",
                           "content_base_64": "'"$(base64 -w0 "$work/in.png")"'"}],
          "return_files": ["gray.png"]}'
expect "Pillow grayscale" 200 \
    "e['stdout'] == 'L (32, 16)\n' and __import__('PIL.Image').Image.open(io.BytesIO(out('gray.png'))).mode == 'L'"

# numpy with OpenBLAS (threads, under the service's and the jail's filters).
execute '{"code": "import numpy as np\na = np.arange(16.).reshape(4, 4) + np.eye(4)\nb = a @ a.T\nprint(round(float(np.linalg.det(a)), 6), b.shape)"}'
expect "numpy linear algebra" 200 "e['exit_code'] == 0 and e['stdout'].endswith('(4, 4)\n')"

execute '{"code": "from reportlab.pdfgen import canvas\nc = canvas.Canvas(\"out.pdf\")\nc.drawString(72, 720, \"pyexec\")\nc.save()",
          "return_files": ["out.pdf"]}'
expect "reportlab PDF" 200 "out('out.pdf').startswith(b'%PDF')"

# (No matplotlib example here: `import matplotlib.pyplot` aborts in about
# one run in three under the jail with glibc's "The futex facility
# returned an unexpected error code", on the dev stack as well as under
# this unit, with or without MemoryDenyWriteExecute=: a fault of the
# jail's, not of the package, reported separately.)

# The jail has no network: an Internet socket cannot even be created.
execute '{"code": "import socket\ntry:\n  socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n  print(\"open\")\nexcept OSError as x:\n  print(\"refused\", x.errno)",
          "api_key": "'"$admin_key"'"}'
expect "no network in the jail" 200 "e['stdout'].startswith('refused')"
