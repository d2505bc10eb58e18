"""resviz inside other people's training frameworks (optional extras, imported on demand).

``resviz.integrations.lightning``: :class:`ResvizCallback` for PyTorch Lightning
(``pip install resviz[lightning]``). Importing resviz never imports these frameworks.
"""
