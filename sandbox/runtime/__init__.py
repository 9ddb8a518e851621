"""Code that runs inside the sandbox containers (installed there as ``sandbox_runtime``).

Standard library only at import time, relative imports only: the same files are imported as
``sandbox.runtime`` on the host (for the offline test runner) and ``sandbox_runtime`` in the image.
"""
