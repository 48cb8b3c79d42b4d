"""What Nova itself makes of a configuration and a connection URL: the
oracle of the database tool's configuration tests.

Run with the Python of the Nova venv. Reads a JSON list of cases on
standard input and prints one JSON answer per case:

- `{"conf": [["--config-file", F], ["--config-dir", D], ...]}`: the
  `[database] connection` and `[api_database] connection` that
  oslo.config gives Nova for those arguments (in that order), or the
  error it raises.
- `{"url": U}`: what SQLAlchemy's PyMySQL dialect hands PyMySQL for the
  URL, and what PyMySQL then does: host, port, user, password, database,
  unix socket, timeouts, and TLS (whether it is used, which CA file, the
  verify mode and the host name check).
- `{"template": T, "database": U}`: Nova's `CellMapping.format_db_url(T)`
  with `[database] connection = U`.
"""

import json
import os
import ssl
import sys
import warnings

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
warnings.filterwarnings("ignore")

import nova.conf  # noqa: E402
import pymysql  # noqa: E402
import sqlalchemy  # noqa: E402
from nova.objects import cell_mapping  # noqa: E402


def conf_case(args):
    # Every option Nova registers, so that `$name` resolves as in Nova.
    conf = nova.conf.CONF
    argv = [part for pair in args for part in pair]
    try:
        conf(argv, project="nova", default_config_files=[], default_config_dirs=[])
        return {"database": conf.database.connection, "api_database": conf.api_database.connection}
    except Exception as e:  # noqa: BLE001 - the oracle reports every refusal
        return {"error": type(e).__name__, "message": str(e)}


def url_case(url):
    # The dict PyMySQL builds its TLS context from, as it built it.
    seen = {}
    original = pymysql.connections.Connection._create_ssl_ctx

    def record(self, sslp):
        seen["sslp"] = dict(sslp) if isinstance(sslp, dict) else sslp
        return original(self, sslp)

    pymysql.connections.Connection._create_ssl_ctx = record
    try:
        parsed = sqlalchemy.engine.make_url(url)
        # create_engine loads `plugin=` entries as engine plugins and
        # takes them out of the query before the dialect sees it.
        plugins = parsed.query.get("plugin", ())
        plugins = [plugins] if isinstance(plugins, str) else list(plugins)
        parsed = parsed.difference_update_query(["plugin"])
        dialect = parsed.get_dialect()()
        cargs, kwargs = dialect.create_connect_args(parsed)
        conn = pymysql.connections.Connection(*cargs, defer_connect=True, **dict(kwargs))
    except Exception as e:  # noqa: BLE001 - the oracle reports every refusal
        return {"error": type(e).__name__, "message": str(e)}
    finally:
        pymysql.connections.Connection._create_ssl_ctx = original
    tls = None
    # Without ssl options PyMySQL 1.2 tries an unverified TLS and falls
    # back to plain: not required, so reported as no TLS.
    if conn.ssl and conn._ssl_required:
        sslp = seen.get("sslp") or {}
        tls = {
            "verify": conn.ctx.verify_mode == ssl.CERT_REQUIRED,
            "check_hostname": bool(conn.ctx.check_hostname),
            # None: the system's CAs (create_default_context without a file).
            "ca": sslp.get("ca"),
            "cert": sslp.get("cert"),
            "key": sslp.get("key"),
        }

    def text(v, encoding="utf-8"):
        return v.decode(encoding) if isinstance(v, bytes) else v

    return {
        "host": None if conn.unix_socket else conn.host,
        "port": None if conn.unix_socket else conn.port,
        "unix_socket": conn.unix_socket,
        "user": text(conn.user),
        # PyMySQL sends the password encoded as Latin-1.
        "password": text(conn.password, "latin-1"),
        "database": text(conn.db),
        "connect_timeout": conn.connect_timeout,
        "read_timeout": conn._read_timeout,
        "write_timeout": conn._write_timeout,
        "tls": tls,
        "plugins": plugins,
    }


def template_case(template, database):
    nova.conf.CONF.set_override("connection", database, group="database")
    return {"url": cell_mapping.CellMapping.format_db_url(template)}


def main():
    out = []
    for case in json.load(sys.stdin):
        if "conf" in case:
            out.append(conf_case(case["conf"]))
        elif "url" in case:
            out.append(url_case(case["url"]))
        else:
            out.append(template_case(case["template"], case["database"]))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
