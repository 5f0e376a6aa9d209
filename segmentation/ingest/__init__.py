"""Ingest: raw events (Kafka batches, landing files) -> validated, anonymised lake rows.

``validate`` judges batches by the contract, ``stream`` handles one MSK batch, ``batch`` one landing
file, ``quarantine`` keeps refused records without raw ids, ``lakewrite`` writes Parquet with
input-derived keys; ``catalog`` checks and uploads the content catalog; ``producer`` and
``kafka_auth`` are the Kafka clients (the local poller is tooling: ``segmentation_local.poller``).
"""
