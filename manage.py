#!/usr/bin/env python
"""Django's command-line utility (the `course` package is importable through `pip install -e .`)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
