import sys
import sysconfig


def test_import_platform_is_the_standard_library():
    import platform

    assert platform.__file__.startswith(sysconfig.get_paths()["stdlib"])
    assert platform.python_version() == ".".join(map(str, sys.version_info[:3]))


def test_the_django_project_is_the_course_package():
    import course

    assert course.__file__.endswith("platform/course/__init__.py")
