"""resviz's static files (the app icon and its PNG renders), importable as ``resviz.assets``.

This folder stays at the top of the repository (DESIGN.md); ``resviz/assets`` is a link to
it, so the same files are found through ``importlib.resources.files("resviz.assets")`` in a
source checkout, an editable install, the wheel and the PyInstaller bundle. Code asks for
them through :mod:`resviz.resources`, never by a path relative to the repository.
"""
