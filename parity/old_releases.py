"""Importing old Nova releases on Python 3.11, for the parity oracle.

Releases up to 18.x use `async` as a name (`enginefacade`'s reader mode,
keyword arguments of RPC calls), which Python 3.7+ reads as a keyword; the
database layer of those releases also needs an SQLAlchemy older than the
one the 34.0.0 dependency set brings. None of that is on the path of the
functions the crate models. So:

- a module of Nova that does not compile is compiled again with every
  `async` name token spelled `async_` (oslo.db's reader has both names);
  nothing else of its text changes, and modules that compile are untouched;
- `nova.db.sqlalchemy.api`, when it cannot be imported, is replaced by a
  stand-in whose every attribute is a no-op decorator, so the object
  modules that decorate their queries with it load (no modelled flow
  queries a database);
- `inspect.getargspec`, gone in Python 3.11, is given back as Pike's
  decorators call it at import.

Every function the parity suite calls is the release's own code.
"""
import importlib.abc
import importlib.machinery
import inspect
import io
import sys
import tokenize
import types


def renamed(source):
    """The source with every `async` name token spelled `async_`."""
    text = source.decode("utf-8") if isinstance(source, bytes) else source
    lines = text.splitlines(keepends=True)
    hits = [tok.start for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type == tokenize.NAME and tok.string == "async"]
    for row, col in reversed(hits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + "async_" + line[col + len("async"):]
    return "".join(lines)


class _Loader(importlib.machinery.SourceFileLoader):
    def source_to_code(self, data, path, *, _optimize=-1):
        try:
            return compile(data, path, "exec", dont_inherit=True, optimize=_optimize)
        except SyntaxError:
            return compile(renamed(data), path, "exec", dont_inherit=True, optimize=_optimize)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "nova" and not fullname.startswith("nova."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            spec.loader = _Loader(fullname, spec.origin)
        return spec


class _Anything:
    """Stands for the database layer: any attribute is itself; called
    with one function (a decorator), returns it."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]
        return self


def _stub_database():
    import importlib.util
    try:
        if importlib.util.find_spec("nova.db.sqlalchemy.api") is None:
            return False
    except ImportError:
        return False  # newer releases keep it elsewhere, and it imports
    try:
        import nova.db.sqlalchemy.api  # noqa: F401
        return False
    except (ImportError, SyntaxError):
        pass
    module = types.ModuleType("nova.db.sqlalchemy.api")
    module.__getattr__ = _Anything().__getattr__
    sys.modules["nova.db.sqlalchemy.api"] = module
    return True


def install():
    """Make the installed Nova importable; True when its database layer
    was replaced by the stand-in."""
    sys.meta_path.insert(0, _Finder())
    if not hasattr(inspect, "getargspec"):
        inspect.getargspec = lambda func: inspect.getfullargspec(func)[:4]
    return _stub_database()
