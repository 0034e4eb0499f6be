"""Operator commands, installed with the project (``pip install -e .``), never shipped to a Lambda.

- ``event-collector-admin``: tenants and API keys (:mod:`.admin`);
- ``event-collector-lake``: redrive the fan-out's dead letters, backfill a raw prefix (:mod:`.lake`);
- ``event-collector-smoke``: check a deployed or local stack end to end (:mod:`.smoke`).
"""
