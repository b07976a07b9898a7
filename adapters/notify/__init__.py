"""Notification adapters: one small ``Notifier`` interface, and e-mail, SMS and file behind it.

``compose`` turns a planned message (engine.notifications) and its case into text from the
templates in ``config/templates``; ``sender`` is the job handler the worker runs.
"""
