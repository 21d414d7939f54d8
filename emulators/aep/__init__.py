"""A loopback Adobe Experience Platform emulator: IMS, gateway, Catalog, Schema Registry, Batch Ingestion, DCS.

Run it with ``python -m emulators.aep --port 0 --store DIR``; see ``README.md`` next to this file and
``docs/architecture.md`` ("AEP emulator") for the flags, credentials, dataset ids and control endpoints.
"""
