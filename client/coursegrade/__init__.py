"""Work on a coursegrade exercise in Colab, Jupyter or VS Code, and submit it from the notebook.

In a cell, after ``%pip install <the wheel URL on the exercise page>``::

    import coursegrade
    coursegrade.login("<your token>")   # once per session: also sends time-on-task heartbeats
    coursegrade.check()                 # the visible tests, on this notebook's variables
    coursegrade.submit()                # grade this notebook (hidden tests too) and show the result

Only the standard library is needed (and IPython, which every notebook has); ``check()`` also
needs pytest. The platform serves this package as a wheel built from ``client/coursegrade``:
change ``__version__`` when you change the client, so installed copies see a new version.
"""

from coursegrade.api import CourseError
from coursegrade.checks import CheckSummary, check
from coursegrade.session import login
from coursegrade.submission import submit

__version__ = "0.1.1"
__all__ = ["CheckSummary", "CourseError", "check", "login", "submit"]
