"""The service: the stages over the ledger, persistence, the outbox and master data.

Imports intake.core, extractors and connectors' pure helpers; never intake.entry."""
