"""Settings: ``harness.toml`` validated once, with errors that name the field.

    config.py  the whole document and :func:`~harness.settings.config.load_settings`
    fields.py  field types every table shares (sections, base URLs, env names)
    alerts.py  the ``[alerts]`` table and its destinations
    g4f.py     the ``[g4f]`` table
    tiers.py   the ``tiers.NAME`` tables: prompts probed on periods of their own

Loading settings has no side effects: endpoint providers are installed where the
app is assembled (:func:`harness.targets.endpoints.install_endpoints`).
"""
