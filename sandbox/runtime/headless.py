"""Run inside the learner's kernel before its first cell: a notebook written for Colab or Jupyter
runs here with no browser, no keyboard and no network, without hanging and without noise.

``install()`` is called once by the kernel driver (kernel.py) as a hidden cell. It must stay
cheap where the display libraries are not installed (the base environment has none of them), so
it imports nothing heavy: the libraries are adjusted right after they are first imported, by a
finder at the front of ``sys.meta_path`` that wraps their loaders (or at once, if some were
imported before). What it does:

- ``from google.colab import drive`` (``files``, ``output``, ``userdata``...) gives stand-ins
  that print a note (colab_stub.py), while the checks notebooks use to decide whether they run
  in Colab still say no: ``"google.colab" in sys.modules`` is False, ``import google.colab``
  raises ModuleNotFoundError, ``importlib.util.find_spec("google.colab")`` finds nothing (or
  raises for the missing ``google`` package, as anywhere outside Colab). Why both: notebooks
  guard Colab-only setup (``%pip``, ``drive.mount``) behind such a check, and some libraries
  probe the same way to pick Colab renderers, so the check must answer "not Colab"; but a
  learner who wrote Colab code unguarded should not lose the whole cell to an ImportError.
  Only the ``from ... import`` form reaches the stand-ins: a wrapper of ``builtins.__import__``
  answers it without any module being registered anywhere, and every other way to import or
  look for ``google.colab`` meets the real (absent) thing. The one check it fools is
  ``try: from google.colab import x`` used as a test, which then runs the guarded Colab setup
  against the stand-ins.
- ``import coursegrade`` (the course's notebook client, which learners use in Colab or Jupyter to
  check and submit) gives a stand-in whose every function prints a note and returns None: the
  submitted notebook's ``coursegrade.login(...)`` or ``coursegrade.submit()`` does nothing here.
  Its submodules are stand-ins too (``from coursegrade.api import CourseError``, ``import
  coursegrade.api``), and its exception classes are exception classes, so ``except`` clauses work.
- ``input()``, ``getpass.getpass()`` and reads of ``sys.stdin`` raise ``NoInputError`` (an
  EOFError, which careful code already handles) with a message saying why, instead of waiting.
- matplotlib: ``plt.show()`` draws nowhere and closes the figures, as Jupyter's inline backend
  does (the driver sets MPLBACKEND=Agg). plotly: ``fig.show()`` renders nothing by default, and
  the browser renderers never start the server that waits for a browser. circuitsvis: no probe of
  the internet when a visualisation is displayed. tqdm: ``tqdm.notebook``/``tqdm.auto`` bars are
  plain text bars (no widget traffic). ``webbrowser.open`` opens nothing. ipywidgets need nothing:
  ``interact`` calls the function once and displays into the void.

Learner code runs in this same kernel and can undo all of it; that only changes its own run.
Nothing here touches the tests or the result, which the judge container owns.
"""

from __future__ import annotations

import builtins
import io
import os
import sys
import types
from collections.abc import Callable
from typing import Any

_installed = False


class NoInputError(EOFError):
    """Raised where a notebook waits for a person; there is nobody while grading."""


def _why(what: str) -> str:
    return (
        f"{what} cannot be answered while grading: the notebook runs with nobody at the keyboard. "
        "Put the value in your code instead (or tag the cell `skip-grading` so it is not run)."
    )


def install() -> None:
    """Make the kernel headless (see the module docstring); calling it again does nothing."""
    global _installed
    if _installed:
        return
    _installed = True
    os.environ.setdefault("WANDB_MODE", "disabled")
    _refuse_input()
    _serve_colab_stubs()
    finder = _AfterImport(_HOOKS)
    sys.meta_path.insert(0, finder)
    for name, hook in _HOOKS.items():
        module = sys.modules.get(name)
        if module is not None:
            _run_hook(hook, module)


# input ---------------------------------------------------------------------------------------


def _no_input(prompt: Any = "", *args: Any, **kwargs: Any) -> str:
    raise NoInputError(_why("input()"))


def _no_getpass(prompt: Any = "Password: ", *args: Any, **kwargs: Any) -> str:
    raise NoInputError(_why("getpass()"))


class _NoStdin(io.TextIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        raise NoInputError(_why("sys.stdin"))

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        raise NoInputError(_why("sys.stdin"))

    def isatty(self) -> bool:
        return False


def _refuse_input() -> None:
    import getpass

    # ipykernel puts its own raw_input and getpass in builtins and the getpass module before
    # every cell (and refuses them itself with a less helpful message): replace them at the source.
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    kernel = getattr(shell, "kernel", None)
    if kernel is not None:
        kernel.raw_input = _no_input
        kernel.getpass = _no_getpass
    builtins.input = _no_input
    getpass.getpass = _no_getpass
    sys.stdin = _NoStdin()


# google.colab --------------------------------------------------------------------------------


def _serve_colab_stubs() -> None:
    original = builtins.__import__

    def grader_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if fromlist and level == 0 and (name == "google.colab" or name.startswith("google.colab.")):
            from . import colab_stub

            return colab_stub.module(name)
        if level == 0 and name.partition(".")[0] == CLIENT:
            return _client_stub()
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = grader_import


# the course's notebook client ------------------------------------------------------------------

# Learners work with the course's client in Colab or Jupyter (`import coursegrade`,
# `coursegrade.login(...)`, `coursegrade.check()`, `coursegrade.submit()`); the notebook they submit
# carries those lines. While grading, the client has nothing to do: a stand-in whose every function
# notes the call and returns None, so a cell that mixes it with the learner's code still runs.
CLIENT = "coursegrade"


class _ClientStandIn(types.ModuleType):
    """``coursegrade``, any of its submodules, and any name in them.

    A name that looks like an exception class is one, so that ``except coursegrade.CourseError:``
    is valid when the learner's code raises; any other name is a stand-in again, as one cannot
    tell a function (``coursegrade.check``) from a submodule (``coursegrade.api``) by its name.
    Calling a stand-in notes the call and returns None.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        print(f"[grader] {self.__name__}() does nothing while grading.")

    def __getattr__(self, name: str) -> Any:
        # IPython looks for `_repr_html_` and the like on what a cell shows: there are none.
        if name.startswith("_"):
            raise AttributeError(name)
        if name[:1].isupper() or name.endswith(("Error", "Exception")):
            if name not in _client_errors:
                _client_errors[name] = type(name, (Exception,), {"__module__": CLIENT})
            value: Any = _client_errors[name]
        else:
            value = _ClientStandIn(f"{self.__name__}.{name}")
        setattr(self, name, value)  # the same object each time it is asked for
        return value


_client: _ClientStandIn | None = None
# One class per name, whichever submodule it is taken from, as the client's own are.
_client_errors: dict[str, type[Exception]] = {}


def _client_stub() -> _ClientStandIn:
    global _client
    if _client is None:
        _client = _ClientStandIn(CLIENT, "Grading stand-in for the course's notebook client.")
    return _client


# libraries, adjusted after their first import -------------------------------------------------


class _AfterImport:
    """A meta path finder that lets the usual finders find a module, then runs a hook on it once
    it has executed. The module keeps its own loader afterwards."""

    def __init__(self, hooks: dict[str, Callable[[Any], None]]) -> None:
        self.hooks = hooks

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        hook = self.hooks.get(name)
        if hook is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        spec.loader = _HookedLoader(loader, spec, hook)
        return spec

    def invalidate_caches(self) -> None:
        pass


class _HookedLoader:
    def __init__(self, loader: Any, spec: Any, hook: Callable[[Any], None]) -> None:
        self.loader, self.spec, self.hook = loader, spec, hook

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.spec.loader = self.loader
        module.__loader__ = self.loader
        self.loader.exec_module(module)
        _run_hook(self.hook, module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


def _run_hook(hook: Callable[[Any], None], module: Any) -> None:
    try:
        hook(module)
    except Exception:  # a library version we do not know: it runs unadjusted, never broken
        pass


def _pyplot(pyplot: Any) -> None:
    def show(*args: Any, **kwargs: Any) -> None:
        """Draws nowhere while grading; the figures are closed, as after a cell in Jupyter."""
        pyplot.close("all")

    pyplot.show = show


def _plotly_renderers(module: Any) -> None:
    from plotly.io._base_renderers import ExternalRenderer

    class Nothing(ExternalRenderer):  # type: ignore[misc]
        """Shows a figure to nobody: there is no browser and no notebook page while grading."""

        def render(self, fig_dict: Any) -> None:
            return None

    module.renderers["grader_headless"] = Nothing()
    module.renderers.default = "grader_headless"


def _plotly_base_renderers(module: Any) -> None:
    def open_html_in_browser(html: Any, using: Any = None, new: int = 0, autoraise: bool = True) -> None:
        # The original serves the page and waits until a browser fetches it: forever, here.
        return None

    module.open_html_in_browser = open_html_in_browser


def _circuitsvis_render(module: Any) -> None:
    # Displaying a visualisation first probes http://google.com for a second; there is no network.
    module.RenderedHTML._repr_html_ = lambda self: self.cdn_src


def _tqdm_notebook(module: Any) -> None:
    from tqdm.std import tqdm as std_tqdm

    class tqdm(std_tqdm):  # type: ignore[misc,valid-type]
        """A text progress bar: widget bars only send messages nobody reads while grading."""

        def __init__(self, *args: Any, display: bool = True, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

    def trange(*args: Any, **kwargs: Any) -> tqdm:
        return tqdm(range(*args), **kwargs)

    module.tqdm = module.tqdm_notebook = tqdm
    module.trange = module.tnrange = trange


def _webbrowser(module: Any) -> None:
    def open(url: str, new: int = 0, autoraise: bool = True) -> bool:
        return False

    module.open = open
    module.open_new = module.open_new_tab = lambda url: False


_HOOKS: dict[str, Callable[[Any], None]] = {
    "matplotlib.pyplot": _pyplot,
    "plotly.io._renderers": _plotly_renderers,
    "plotly.io._base_renderers": _plotly_base_renderers,
    "circuitsvis.utils.render": _circuitsvis_render,
    "tqdm.notebook": _tqdm_notebook,
    "webbrowser": _webbrowser,
}
