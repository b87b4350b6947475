"""gunicorn settings for the web process: ``gunicorn -c gunicorn.conf.py wsgi:app``.

``make run`` and production start the web process with this one file; only the environment
differs (WEB_HOST, WEB_PORT, WEB_CONCURRENCY, WEB_TIMEOUT).
"""

import os

_host, _port = os.environ.get("WEB_HOST", "127.0.0.1"), os.environ.get("WEB_PORT", "5000")
bind = f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"  # WEB_HOST=:: for IPv6

# Sync workers, one request at a time each. Every worker holds its own database connection and
# storefront cache, so the default stops at 8 however many cores the machine has.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1) + 1, 8))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))  # a worker silent this long is restarted

accesslog = "-"  # stdout, one line per request
errorlog = "-"  # stderr
# The Server header says "gunicorn", without its version; gunicorn has no setting to change it.

# X-Forwarded-* are trusted by the app alone, for TRUSTED_PROXIES hops (ProxyFix in
# create_app). gunicorn's own default would also take X-Forwarded-Proto (and SCRIPT_NAME,
# PATH_INFO headers) from any client on 127.0.0.1, even with TRUSTED_PROXIES=0.
forwarded_allow_ips = ""

# No control socket (gunicorn 25+): its default path is one per user ($HOME/.gunicorn), so a
# second gunicorn on the machine (tests, benchmarks) would take it over and delete it on exit.
control_socket_disable = True
