"""openapi_check.py: checks HTTP responses against www/openapi.json.

tests/run.py installs check() as stack.RESPONSE_HOOK, so every response
the integration and escape suites receive through the harness is checked:
its status must be documented for the route and method, its JSON body
must validate against the documented schema, and the documented headers
(X-Request-Id, Retry-After) must be there. A path that is not in the
document is held to the generic error answers (404 NotFound and nginx's
own refusals). Needs python3-jsonschema (Draft 2020-12).
"""
import json
import os
import re
import threading

import jsonschema

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SPEC_PATH = os.path.join(REPO, 'www', 'openapi.json')
META_PATH = os.path.join(REPO, 'tests', 'openapi', 'oas-3.1-schema.json')

# Answers any path may get, from nginx or the workers' router.
GENERIC = {
    '400': 'LengthRequired', '404': 'NotFound', '405': 'MethodNotAllowed',
    '408': 'RequestTimeout', '411': 'LengthRequired',
    '413': 'PayloadTooLarge', '414': 'UriTooLong', '429': 'RateLimited',
    '500': 'InternalError', '503': 'Unavailable', '504': 'GatewayTimeout',
}


def load_spec():
    with open(SPEC_PATH) as f:
        return json.load(f)


def validate_document(spec=None):
    """Raises if openapi.json is not a valid OpenAPI 3.1 document: the
    OpenAPI Initiative's published schema for 3.1 documents, then every
    Schema Object in it against JSON Schema 2020-12's meta-schema (the
    published schema leaves Schema Objects unchecked)."""
    spec = spec or load_spec()
    with open(META_PATH) as f:
        meta = json.load(f)
    v = jsonschema.Draft202012Validator(meta)
    errors = sorted(v.iter_errors(spec), key=lambda e: list(e.path))
    if errors:
        raise AssertionError('openapi.json is not OpenAPI 3.1: ' + '; '.join(
            '%s: %s' % ('/'.join(map(str, e.path)), e.message)
            for e in errors[:5]))
    for name, schema in spec['components']['schemas'].items():
        jsonschema.Draft202012Validator.check_schema(schema)
    # Every $ref resolves.
    resolver = jsonschema.RefResolver('', spec)

    def walk(o):
        if isinstance(o, dict):
            for k, val in o.items():
                if k == '$ref' and isinstance(val, str):
                    resolver.resolve(val)
                else:
                    walk(val)
        elif isinstance(o, list):
            for val in o:
                walk(val)
    walk(spec)


class Checker:
    def __init__(self, spec=None):
        self.spec = spec or load_spec()
        self.resolver = jsonschema.RefResolver('', self.spec)
        self.lock = threading.Lock()
        self.checked = 0
        self.failures = []
        self.seen = set()	# (method, route, status) actually met

    def _deref(self, o):
        while isinstance(o, dict) and '$ref' in o:
            o = self.resolver.resolve(o['$ref'])[1]
        return o

    def route_of(self, path):
        """The spec's path for a concrete one: exact, or a template
        (/sessions/{id}/files/{path}: {path} may hold slashes)."""
        route = path.split('?', 1)[0]
        if route in self.spec['paths']:
            return route
        for tmpl in self.spec['paths']:
            if '{' not in tmpl:
                continue
            rx = re.escape(tmpl).replace(r'\{path\}', '.+')
            rx = re.sub(r'\\\{[a-z_]+\\\}', '[^/]+', rx)
            if re.fullmatch(rx, route):
                return tmpl
        return route

    def response_spec(self, method, path, status):
        """The response object for this answer, or an error string."""
        route = self.route_of(path)
        item = self.spec['paths'].get(route)
        m = 'get' if method == 'HEAD' else method.lower()
        status = str(status)
        if item is not None and m in item:
            resp = item[m]['responses'].get(status)
            if resp is None:
                return None, ('%s %s: status %s is not documented'
                              % (method, route, status))
            return self._deref(resp), None
        if item is not None and status != '405' and status in GENERIC:
            # A method the path does not have gets 405, unless nginx
            # refused the request first.
            pass
        elif item is not None and status != '405':
            return None, ('%s %s: method not documented, answered %s'
                          % (method, route, status))
        name = GENERIC.get(status)
        if name is None:
            return None, ('%s %s (undocumented path): status %s is not one '
                          'of the generic answers' % (method, route, status))
        return self._deref(self.spec['components']['responses'][name]), None

    def check(self, method, path, status, headers, body):
        problems = []
        resp, err = self.response_spec(method, path, status)
        if err:
            problems.append(err)
        else:
            problems += self._check(method, resp, status, headers, body)
        route = self.route_of(path)
        with self.lock:
            self.checked += 1
            self.seen.add((method, route if route in self.spec['paths']
                           else '(other)', int(status)))
            for p in problems:
                if len(self.failures) < 50:
                    self.failures.append(p)
        return problems

    def _check(self, method, resp, status, headers, body):
        problems = []
        where = '%s %s' % (method, status)
        for name, h in resp.get('headers', {}).items():
            h = self._deref(h)
            val = headers.get(name.lower())
            required = name == 'X-Request-Id' or (
                name == 'Retry-After' and (str(status) == '429' or
                                           b'"ServerBusy"' in body))
            if required and val is None:
                problems.append('%s: header %s missing' % (where, name))
                continue
            if val is not None and h['schema'].get('pattern') and \
                    not re.search(h['schema']['pattern'], val):
                problems.append('%s: header %s=%r does not match'
                                % (where, name, val))
        content = resp.get('content')
        if method == 'HEAD' or not content:
            return problems
        ctype = headers.get('content-type', '').split(';')[0].strip()
        if ctype not in content:
            problems.append('%s: Content-Type %r not documented (%s)'
                            % (where, ctype, ', '.join(content)))
            return problems
        if ctype != 'application/json':
            return problems
        try:
            doc = json.loads(body)
        except ValueError as e:
            return problems + ['%s: body is not JSON (%s): %r'
                               % (where, e, body[:200])]
        schema = content[ctype]['schema']
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        for e in list(v.iter_errors(doc))[:3]:
            problems.append('%s: body at /%s: %s' % (
                where, '/'.join(map(str, e.absolute_path)), e.message[:300]))
        return problems
