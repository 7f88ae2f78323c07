"""The admin sections, in the order of the navigation. Each section module defines `bp` (url_prefix
under /admin); list it here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from mediation.web.admin import cases, deliveries, mediators, platforms, rulebooks

BLUEPRINTS: list = []
BLUEPRINTS.append(rulebooks.bp)
BLUEPRINTS += [platforms.bp, mediators.bp, deliveries.bp, cases.bp]

# (endpoint of the section's index page, label)
NAVIGATION = [
    ("admin_platforms.index", _l("Platforms")),
    ("admin_mediators.index", _l("Mediators")),
    ("admin_rulebooks.index", _l("Rulebooks")),
    ("admin_deliveries.index", _l("Webhook deliveries")),
    ("admin_cases.index", _l("Cases")),
]
