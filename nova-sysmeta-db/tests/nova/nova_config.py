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
    try:
        parsed = sqlalchemy.engine.make_url(url)
        # create_engine loads `plugin=` entries as engine plugins and
        # takes them out of the query before the dialect sees it.
        plugins = parsed.query.get("plugin", ())
        plugins = [plugins] if isinstance(plugins, str) else list(plugins)
        parsed = parsed.difference_update_query(["plugin"])
        dialect = parsed.get_dialect()()
        cargs, kwargs = dialect.create_connect_args(parsed)
        kwargs = dict(kwargs)
        conn = pymysql.connections.Connection(*cargs, defer_connect=True, **kwargs)
    except Exception as e:  # noqa: BLE001
        return {"error": type(e).__name__, "message": str(e)}
    tls = None
    if conn.ssl:
        ctx = conn.ctx
        tls = {
            "verify": ctx.verify_mode == ssl.CERT_REQUIRED,
            "check_hostname": bool(ctx.check_hostname),
            "ca": (kwargs.get("ssl") or {}).get("ca") or kwargs.get("ssl_ca"),
            "cert": (kwargs.get("ssl") or {}).get("cert") or kwargs.get("ssl_cert"),
            "key": (kwargs.get("ssl") or {}).get("key") or kwargs.get("ssl_key"),
        }
    return {
        "host": None if conn.unix_socket else conn.host,
        "port": None if conn.unix_socket else conn.port,
        "unix_socket": conn.unix_socket,
        "user": conn.user.decode() if isinstance(conn.user, bytes) else conn.user,
        "password": conn.password.decode() if isinstance(conn.password, bytes) else conn.password,
        "database": conn.db.decode() if isinstance(conn.db, bytes) else conn.db,
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
