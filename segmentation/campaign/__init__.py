"""Campaigns with a holdout: the definition (:mod:`.model`), the arm of a user (:mod:`.arms`),
the campaigns table (:mod:`.store`) and the uplift report (:mod:`.uplift`).

A campaign targets durable segment keys (S1, S2, ...) of the model version served at its start;
every member is in the treatment or the control arm, decided by an HMAC under the campaigns' own
key, so the segment API, the uplift report and the synthetic generator agree on every arm without
storing one. See docs/serving.md (campaigns) and docs/pipeline.md (uplift).
"""
