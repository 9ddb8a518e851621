"""What ``from google.colab import ...`` gives a notebook while it is graded: harmless stand-ins.

Served by ``headless.install`` for ``from google.colab[.x] import y`` only; none of these is ever
put in ``sys.modules`` or found by an import finder, so the usual "am I in Colab?" checks still
say no (see headless.py for why). Each stand-in prints a short note and does nothing; the few
that would wait for a person (``files.upload()``) raise the same clear error as ``input()``.
Unknown names are stand-ins too, so a helper this file does not know does not break the cell.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

NOT_COLAB = "does nothing while grading (the notebook is not running in Colab)"


def _note(what: str) -> None:
    print(f"[grader] {what} {NOT_COLAB}.")


class _Anything:
    """A callable stand-in for a helper this file does not know: notes the call, returns None."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        _note(f"{self._path}()")

    def __getattr__(self, name: str) -> _Anything:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything(f"{self._path}.{name}")

    def __repr__(self) -> str:
        return f"<grader stand-in for {self._path}>"


class _StubModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything(f"{self.__name__}.{name}")


def _module(name: str, **members: Any) -> _StubModule:
    module = _StubModule(name, f"Grading stand-in for {name} (the notebook is not running in Colab).")
    module.__dict__.update(members)
    return module


# drive ---------------------------------------------------------------------------------------


def mount(mountpoint: str = "/content/drive", force_remount: bool = False, **kwargs: Any) -> None:
    _note(f"drive.mount({mountpoint!r})")


def flush_and_unmount(*args: Any, **kwargs: Any) -> None:
    _note("drive.flush_and_unmount()")


# files ---------------------------------------------------------------------------------------


def upload(*args: Any, **kwargs: Any) -> dict[str, bytes]:
    from .headless import NoInputError

    raise NoInputError(
        "files.upload() cannot be answered while grading: nobody is there to pick a file. "
        "Use the exercise's data files (they are beside your notebook) or build the data in code."
    )


def download(filename: str = "", *args: Any, **kwargs: Any) -> None:
    _note(f"files.download({filename!r})")


# output --------------------------------------------------------------------------------------


def _noop(what: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> None:
        _note(what)

    call.__name__ = what.rsplit(".", 1)[-1].split("(")[0]
    return call


def _quiet(*args: Any, **kwargs: Any) -> None:
    return None


def eval_js(*args: Any, **kwargs: Any) -> None:
    _note("output.eval_js()")
    return None


@contextlib.contextmanager
def _context(*args: Any, **kwargs: Any) -> Iterator[None]:
    yield


# userdata ------------------------------------------------------------------------------------


class SecretNotFoundError(Exception):
    """Colab's error for a secret that is not there: every secret, while grading."""


class NotebookAccessError(Exception):
    pass


def get(key: str, *args: Any, **kwargs: Any) -> str:
    raise SecretNotFoundError(
        f"Secret {key} does not exist: Colab secrets (userdata.get) are not available while grading"
    )


def _stubs() -> dict[str, _StubModule]:
    drive = _module("google.colab.drive", mount=mount, flush_and_unmount=flush_and_unmount)
    files = _module("google.colab.files", upload=upload, download=download, view=_noop("files.view()"))
    output = _module(
        "google.colab.output",
        enable_custom_widget_manager=_noop("output.enable_custom_widget_manager()"),
        disable_custom_widget_manager=_noop("output.disable_custom_widget_manager()"),
        clear=_quiet,
        eval_js=eval_js,
        register_callback=_noop("output.register_callback()"),
        no_vertical_scroll=_quiet,
        redirect_to_element=_context,
        use_tags=_context,
        temporary=_context,
        serve_kernel_port_as_window=_noop("output.serve_kernel_port_as_window()"),
        serve_kernel_port_as_iframe=_noop("output.serve_kernel_port_as_iframe()"),
    )
    userdata = _module(
        "google.colab.userdata",
        get=get,
        SecretNotFoundError=SecretNotFoundError,
        NotebookAccessError=NotebookAccessError,
    )
    auth = _module("google.colab.auth", authenticate_user=_noop("auth.authenticate_user()"))
    data_table = _module(
        "google.colab.data_table",
        enable_dataframe_formatter=_quiet,
        disable_dataframe_formatter=_quiet,
        DataTable=_Anything("google.colab.data_table.DataTable"),
    )
    patches = _module("google.colab.patches", cv2_imshow=_quiet)
    runtime = _module("google.colab.runtime", unassign=_noop("runtime.unassign()"))
    subs = {m.__name__: m for m in (drive, files, output, userdata, auth, data_table, patches, runtime)}
    colab = _module("google.colab", **{name.rsplit(".", 1)[1]: m for name, m in subs.items()})
    return {"google.colab": colab, **subs}


_cache: dict[str, _StubModule] = {}


def module(name: str) -> _StubModule:
    """The stand-in for the module ``name`` (``google.colab`` or below it)."""
    if not _cache:
        _cache.update(_stubs())
    if name not in _cache:
        _cache[name] = _module(name)
    return _cache[name]
